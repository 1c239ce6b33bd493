import AWSClient
import Foundation
import LivestreamCore
import Logging
import Synchronization

/// Archive plugin `s3`: session folders under a bucket and prefix, as MediaLive's archive output writes them.
///
/// Roots are `s3://<bucket>/<prefix><folders>/`, or `.../<folders>/<stem>` for a client's
/// path without a trailing `/` (file names start with the stem). A session is listed once per split
/// request with ListObjectsV2 (every page); clips are written with PutObject.
/// Segment lengths are not stored in S3, so the splitter uses the nominal length.
///
/// A bucket in another region than the configured one answers 301 (or 400
/// `AuthorizationHeaderMalformed`) naming its region; as botocore's S3 region redirector
/// does, the call is made again there and the bucket's region kept for later calls.
public final class S3ArchiveStore: ArchiveStore {
    public let bucket: String
    /// Key prefix, empty or ending with `/`.
    public let prefix: String
    /// Where players reach the keys below the prefix over HTTPS (a CDN in front of the bucket), without a trailing `/`.
    public let publicURL: String?
    /// The S3 client for the bucket's region.
    private let client: Mutex<AWSService>
    let logger: Logger

    public init(bucket: String, prefix: String, publicURL: String? = nil, s3: AWSService, logger: Logger = Logger(label: "livestreamd")) {
        self.bucket = bucket
        var publicURL = publicURL
        while publicURL?.hasSuffix("/") == true { publicURL?.removeLast() }
        self.publicURL = publicURL.flatMap { $0.isEmpty ? nil : $0 }
        var prefix = prefix
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        self.prefix = prefix
        self.client = Mutex(s3)
        self.logger = logger
    }

    var s3: AWSService { client.withLock { $0 } }

    var base: String { "s3://\(bucket)/\(prefix)" }

    /// A client's `path` is a relative folder, or an `s3://` URL inside the configured bucket and prefix.
    public func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String {
        guard var path = requestedPath else { return base + ArchivePath.dated(streamId: streamId, startedAt: startedAt) }
        if path.hasPrefix("s3://") {
            guard path.hasPrefix(base) else {
                throw ServiceError.badRequest("path must be inside \(base)", code: "invalid_path")
            }
            path = String(path.dropFirst(base.count))
        }
        return try ArchivePath.root(base: base, path: path)
    }

    public func checkReady() throws {
        _ = try call("ListObjectsV2") { s3 in
            try s3.send(method: "GET", path: "/" + bucket, query: "list-type=2&max-keys=1&prefix=" + SignatureV4.uriEncode(prefix, keepSlash: false))
        }
    }

    public func listSession(root: String) throws -> SessionFiles {
        let (folder, stem) = try keys(of: root)
        var files = SessionFiles(segments: [])
        var token: String?
        repeat {
            var query = "list-type=2&prefix=" + SignatureV4.uriEncode(folder + stem, keepSlash: false)
            if let token { query = "continuation-token=" + SignatureV4.uriEncode(token, keepSlash: false) + "&" + query }
            let answer = try call("ListObjectsV2") { s3 in try s3.send(method: "GET", path: "/" + bucket, query: query) }
            let text = String(decoding: answer.body, as: UTF8.self)
            for object in XMLScan.texts(of: "Contents", in: text) {
                guard let key = XMLScan.text(of: "Key", in: object) else { continue }
                let name = String(key.dropFirst(folder.count))
                guard !name.contains("/"), SessionFileName.belongs(String(name.dropFirst(stem.count))) else { continue }
                if let segment = ArchiveSegment(fileName: name, stem: stem, bytes: XMLScan.text(of: "Size", in: object).flatMap { Int64($0) }) {
                    files.segments.append(segment)
                } else {
                    files.others.append(String(name.dropFirst(stem.count)))
                }
            }
            token = XMLScan.text(of: "IsTruncated", in: text) == "true" ? XMLScan.text(of: "NextContinuationToken", in: text) : nil
        } while token != nil
        return files
    }

    public func writeFile(root: String, fileName: String, contents: String) throws -> String {
        let key = try fileKey(root: root, fileName: fileName)
        let type = fileName.hasSuffix(".m3u8") ? "application/vnd.apple.mpegurl" : fileName.hasSuffix(".json") ? "application/json" : "application/octet-stream"
        _ = try call("PutObject") { s3 in
            try s3.send(method: "PUT", path: objectPath(key), headers: [("Content-Type", type)], body: Array(contents.utf8))
        }
        return key
    }

    public func readFile(root: String, fileName: String) throws -> String? {
        let key = try fileKey(root: root, fileName: fileName)
        return try call("GetObject") { s3 in
            do {
                return String(decoding: try s3.send(method: "GET", path: objectPath(key)).body, as: UTF8.self)
            } catch let error as AWSError where error.status == 404 {
                return nil
            }
        }
    }

    /// One DeleteObject per file (DeleteObjects would need a Content-MD5 digest); a key already gone counts as removed.
    public func deleteSession(root: String) throws -> Int {
        let (folder, stem) = try keys(of: root)
        let files = try listSession(root: root)
        let keys = files.segments.map { folder + $0.name } + files.others.map { folder + stem + $0 }
        for key in keys {
            _ = try call("DeleteObject") { s3 in try s3.send(method: "DELETE", path: objectPath(key)) }
        }
        return keys.count
    }

    /// `archive.s3.public_url` + the key below the prefix, where the bucket is served over HTTPS (a CDN); else nil.
    public func playbackURL(root: String, fileName: String) -> String? {
        guard let publicURL, let (folder, stem) = try? keys(of: root) else { return nil }
        let below = String((folder + stem + fileName).dropFirst(prefix.count))
        return publicURL + "/" + SignatureV4.uriEncode(below, keepSlash: true)
    }

    public func fileKey(root: String, fileName: String) throws -> String {
        let (folder, stem) = try keys(of: root)
        try ArchivePath.checkFileName(fileName)
        return folder + stem + fileName
    }

    private func objectPath(_ key: String) -> String {
        "/" + bucket + "/" + SignatureV4.uriEncode(key, keepSlash: true)
    }

    /// The key prefix of a root's folder inside this archive (ends with `/`) and the root's file-name stem.
    func keys(of root: String) throws(ServiceError) -> (folder: String, stem: String) {
        guard root.hasPrefix(base) else {
            throw ServiceError.internal("archive root \(root) is not inside \(base)")
        }
        _ = try ArchivePath.relativeSegments(String(root.dropFirst(base.count)))
        let (folder, stem) = ArchivePath.split(root: String(root.dropFirst(base.count)))
        return (prefix + folder, stem)
    }

    private func call<T>(_ operation: String, _ body: (AWSService) throws -> T) throws -> T {
        let s3 = self.s3
        do {
            do {
                return try body(s3)
            } catch let error as AWSError where [301, 307, 400].contains(error.status) {
                guard let region = error.bucketRegion, !region.isEmpty, region != s3.region else { throw error }
                logger.notice("the archive bucket is in another region; using it", metadata: ["bucket": "\(bucket)", "region": "\(region)"])
                let moved = s3.inRegion(region)
                client.withLock { $0 = moved }
                return try body(moved)
            }
        } catch {
            throw ServiceError.aws(error, doing: operation)
        }
    }
}

/// Registers archive plugin `s3`.
public enum S3ArchivePlugin {
    public static let options = [
        ConfigOption("archive.s3.bucket", .string, default: nil, help: "bucket of the archives (MediaLive's archive destination)"),
        ConfigOption("archive.s3.prefix", .string, default: "", help: "key prefix inside the bucket"),
        ConfigOption("archive.s3.public_url", .string, default: nil, help: "HTTPS base URL serving the keys below the prefix (a CDN in front of the bucket), for the sessions API's playback URLs; unset = s3:// URLs only"),
    ] + AWSSettings.options

    /// The bucket's ARN and the ARN pattern of the objects under the prefix.
    static func arns(_ configuration: Configuration, scope: ARNScope) -> (bucket: String, objects: String, prefix: String) {
        let bucket = configuration.string("archive.s3.bucket") ?? "<archive.s3.bucket>"
        let prefix = configuration.string("archive.s3.prefix") ?? ""
        return (scope.arn("s3", bucket, regional: false, withAccount: false), scope.arn("s3", "\(bucket)/\(prefix)*", regional: false, withAccount: false), prefix)
    }

    /// What livestreamd needs, under the prefix only: list the archive (sessions, a split), write and read clips, and
    /// delete a session's archive.
    public static func iamStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        let arns = arns(configuration, scope: scope)
        return [
            IAMStatement(
                sid: "ListArchive", actions: ["s3:ListBucket"], resources: [arns.bucket],
                condition: ["StringLike": ["s3:prefix": .string(arns.prefix + "*")]]),
            IAMStatement(sid: "ClipsAndSessions", actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], resources: [arns.objects]),
        ]
    }

    /// What MediaLive's role needs to write the archive.
    public static func mediaLiveRoleStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        let arns = arns(configuration, scope: scope)
        return [
            IAMStatement(sid: "ArchiveBucket", actions: ["s3:ListBucket"], resources: [arns.bucket]),
            IAMStatement(sid: "WriteArchive", actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], resources: [arns.objects]),
        ]
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerArchive("s3", summary: "session folders in an S3 bucket; one listing per split", options: options) { context in
            let bucket = try context.configuration.requiredString("archive.s3.bucket")
            // MediaLive writes over TLS (s3ssl://), and a dotted bucket name breaks the bucket's TLS certificate match.
            guard !bucket.contains(".") else {
                throw ConfigurationError("archive.s3.bucket '\(bucket)' has dots: MediaLive writes archives over TLS, which such names break; use a bucket without dots")
            }
            let aws = try AWSSettings.shared(configuration: context.configuration, logger: context.logger)
            return S3ArchiveStore(
                bucket: bucket, prefix: context.configuration.string("archive.s3.prefix") ?? "",
                publicURL: context.configuration.string("archive.s3.public_url"), s3: aws.service("s3", logger: context.logger), logger: context.logger)
        }
    }
}
