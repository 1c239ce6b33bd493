import AWSClient
import AWSTestSupport
import Foundation
import Logging
import LivestreamCore
@testable import S3Archive
import Synchronization
import Testing

/// The s3 archive against moto_server.
///
/// moto 5.2 miscomputes S3 signatures when the query holds percent-encoded characters
/// (boto3's own ListObjectsV2 with a prefix fails the same way), so this server runs
/// without signature checking; signing of S3 requests is covered by the botocore vectors
/// and by AWSClientTests against a checking moto.
struct S3ArchiveStoreTests {
    let moto: MotoServer
    let s3: AWSService
    let archive: S3ArchiveStore

    init() throws {
        moto = try MotoServer(checkSignatures: false)
        s3 = moto.service("s3", key: "AKIDTEST", secret: "secret")
        _ = try s3.send(method: "PUT", path: "/archives")
        archive = S3ArchiveStore(bucket: "archives", prefix: "live/", s3: s3)
    }

    func put(_ key: String) throws {
        _ = try s3.send(method: "PUT", path: "/archives/" + SignatureV4.uriEncode(key, keepSlash: true), body: Array("ts".utf8))
    }

    @Test func rootsStayInsideTheBucketAndPrefix() throws {
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1_732_500_000, requestedPath: nil) == "s3://archives/live/2024/11/25/abc-1732500000/")
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "events/keynote/") == "s3://archives/live/events/keynote/")
        // Without a trailing slash, as the old deployment used it: a file-name stem in events/.
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "events/keynote") == "s3://archives/live/events/keynote")
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "s3://archives/live/events/x/") == "s3://archives/live/events/x/")
        for bad in ["s3://other/live/x", "s3://archives/elsewhere/x", "s3://archives/live/../x", "../x", "a\u{1}b"] {
            #expect(throws: ServiceError.self, "\(bad)") { try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: bad) }
        }
    }

    @Test func listsEveryPageOfASessionOnceAndWritesPlaylistsBesideIt() throws {
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1_732_500_000, requestedPath: nil)
        let folder = "live/2024/11/25/abc-1732500000/"
        // More than one ListObjectsV2 page (1,000 keys), both pipelines, and things that are not segments.
        for counter in 0..<520 {
            try put(folder + "_1-20241125T020000.\(String(format: "%06d", counter)).ts")
            try put(folder + "_2-20241125T020000.\(String(format: "%06d", counter)).ts")
        }
        try put(folder + "index_old_0.m3u8")
        try put("live/2024/11/25/abc-1732500001/_1-other.000000.ts")

        let segments = try archive.listSegments(root: root)
        #expect(segments.count == 1040)
        #expect(Set(segments.filter { $0.pipeline == 1 }.map(\.counter)) == Set(0..<520))
        #expect(segments.allSatisfy { !$0.name.contains("/") && $0.duration == nil })

        let key = try archive.writeFile(root: root, fileName: "index_clip_0.m3u8", contents: "#EXTM3U\n")
        #expect(key == folder + "index_clip_0.m3u8")
        let fetched = try s3.send(method: "GET", path: "/archives/" + key)
        #expect(fetched.body == Array("#EXTM3U\n".utf8) && fetched.headers["content-type"] == "application/vnd.apple.mpegurl")
    }

    @Test func aStemRootListsItsOwnSegmentsAndWritesPlaylistsNamedAfterIt() throws {
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "s3://archives/live/events/noslash")
        for name in ["noslash_120241125T020000.000000.ts", "noslash_220241125T020000.000001.ts", "noslashy_1x.000000.ts", "other_1x.000000.ts"] {
            try put("live/events/" + name)
        }
        let segments = try archive.listSegments(root: root).sorted { $0.name < $1.name }
        #expect(segments.map(\.name) == ["noslash_120241125T020000.000000.ts", "noslash_220241125T020000.000001.ts"])
        #expect(try archive.writeFile(root: root, fileName: "index_m_0.m3u8", contents: "#EXTM3U\n") == "live/events/noslashindex_m_0.m3u8")
    }

    @Test func aSessionIsListedWithSizesAndDeletedWithoutTouchingItsNeighbours() throws {
        let archive = S3ArchiveStore(bucket: "archives", prefix: "live/", publicURL: "https://cdn.example/archive/", s3: s3)
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "talks/keynote")
        for name in ["keynote_1x.000000.ts", "keynote_2x.000000.ts", "keynoteindex_a_0.m3u8", "keynotey_1x.000000.ts", "other_1x.000000.ts"] {
            try put("live/talks/" + name)
        }
        #expect(try archive.writeFile(root: root, fileName: "index_a_0.json", contents: "{}") == "live/talks/keynoteindex_a_0.json")
        let files = try archive.listSession(root: root)
        #expect(files.segments.map(\.bytes) == [2, 2] && files.others.sorted() == ["index_a_0.json", "index_a_0.m3u8"])
        #expect(try archive.readFile(root: root, fileName: "index_a_0.json") == "{}")
        #expect(try archive.readFile(root: root, fileName: "index_b_0.json") == nil)
        #expect(archive.playbackURL(root: root, fileName: "index_a_0.m3u8") == "https://cdn.example/archive/talks/keynoteindex_a_0.m3u8")
        #expect(self.archive.playbackURL(root: root, fileName: "") == nil, "no public URL configured")

        #expect(try archive.deleteSession(root: root) == 4)
        let left = try s3.send(method: "GET", path: "/archives", query: "list-type=2&prefix=live%2Ftalks%2F")
        #expect(XMLScan.texts(of: "Key", in: String(decoding: left.body, as: UTF8.self)) == ["live/talks/keynotey_1x.000000.ts", "live/talks/other_1x.000000.ts"])
    }

    @Test func aMissingBucketIsAnUpstreamError() throws {
        let missing = S3ArchiveStore(bucket: "nope", prefix: "", s3: s3)
        #expect { try missing.listSegments(root: "s3://nope/x/") } throws: { ($0 as? ServiceError)?.code == "NoSuchBucket" }
    }

    @Test func aBucketInAnotherRegionIsFollowedThereAsS3SaysAndRemembered() throws {
        // S3 as it answers a bucket living in eu-west-1, asked in us-east-1 (path-style: 301 + x-amz-bucket-region).
        let s3 = RegionalS3(home: "eu-west-1")
        let service = AWSService(
            name: "s3", endpoints: AWSEndpoints(region: "us-east-1"),
            credentials: CredentialChain(providers: [StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: nil)]),
            transport: s3, retry: RetryPolicy(maxAttempts: 1), logger: Logger(label: "test"))
        let archive = S3ArchiveStore(bucket: "archives", prefix: "live/", s3: service)
        #expect(try archive.listSegments(root: "s3://archives/live/a/").isEmpty)
        _ = try archive.writeFile(root: "s3://archives/live/a/", fileName: "index.m3u8", contents: "#EXTM3U")
        let hosts = s3.requests.map { URL(string: $0.url)!.host! }
        #expect(hosts == ["s3.us-east-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"])
        let scopes = s3.requests.compactMap { $0.headers.first { $0.0 == "Authorization" }?.1 }.map { $0.contains("/eu-west-1/s3/") }
        #expect(scopes == [false, true, true])
    }
}

/// S3 with one bucket in `home`: requests signed for another region get 301 and the bucket's region.
final class RegionalS3: HTTPTransport {
    let home: String
    private let seen = Mutex<[HTTPRequest]>([])
    init(home: String) { self.home = home }
    var requests: [HTTPRequest] { seen.withLock { $0 } }

    func send(_ request: HTTPRequest) throws -> HTTPResponse {
        seen.withLock { $0.append(request) }
        let authorization = request.headers.first { $0.0 == "Authorization" }?.1 ?? ""
        guard authorization.contains("/\(home)/s3/"), request.url.contains("s3.\(home).") else {
            let body = "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>s3.\(home).amazonaws.com</Endpoint><Bucket>archives</Bucket></Error>"
            return HTTPResponse(status: 301, headers: ["x-amz-bucket-region": home, "content-type": "application/xml"], body: Array(body.utf8))
        }
        let body = request.method == "GET" ? "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>" : ""
        return HTTPResponse(status: 200, body: Array(body.utf8))
    }
}
