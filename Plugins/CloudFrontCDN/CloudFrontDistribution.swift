import AWSClient
import Foundation
import LivestreamCore
import Logging

/// CDN plugin `cloudfront`: streams' packager origins on one shared CloudFront distribution.
///
/// Every change is GetDistributionConfig (keeping the ETag), an edit of the XML
/// document itself (`StreamOrigin` on an `XMLTree`, so elements this service does not
/// model survive byte for byte), and UpdateDistribution with `If-Match`. When another
/// writer got in between, CloudFront answers `PreconditionFailed` and the edit is
/// redone on a fresh read, with jittered backoff, up to `maxAttempts` times. Within one
/// process edits take turns, so only other processes can collide.
public final class CloudFrontDistribution: LiveDistribution {
    public struct Settings: Sendable {
        public var distributionId: String
        public var liveDomain: String
        public var maxOrigins: Int
        public var maxCacheBehaviors: Int
        public var maxAttempts: Int
        /// Request headers each stream's cache behaviour forwards (the old deployment's CORS headers by default).
        public var forwardedHeaders: [String]
        /// The old deployment's forwarded headers: the CORS request headers web players on other domains need.
        public static let corsRequestHeaders = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]

        public init(
            distributionId: String, liveDomain: String, maxOrigins: Int = 100, maxCacheBehaviors: Int = 75, maxAttempts: Int = 12,
            forwardedHeaders: [String] = Settings.corsRequestHeaders
        ) {
            self.forwardedHeaders = forwardedHeaders
            self.distributionId = distributionId
            self.liveDomain = liveDomain
            self.maxOrigins = maxOrigins
            self.maxCacheBehaviors = maxCacheBehaviors
            self.maxAttempts = maxAttempts
        }
    }

    let settings: Settings
    let cloudfront: AWSService
    let logger: Logger
    private let turn = NSLock()

    public init(settings: Settings, cloudfront: AWSService, logger: Logger) {
        self.settings = settings
        self.cloudfront = cloudfront
        self.logger = logger
    }

    public func cdnViewerEndpoint(for viewerEndpoint: String) -> String {
        guard var url = URLComponents(string: viewerEndpoint), url.host != nil else { return viewerEndpoint }
        url.scheme = "https"
        url.host = settings.liveDomain
        url.port = nil
        return url.string ?? viewerEndpoint
    }

    public func associate(_ record: StreamRecord) throws {
        let origin = try StreamOrigin(streamId: record.id, viewerEndpoint: record.viewerEndpoint, forwardedHeaders: settings.forwardedHeaders)
        try edit("associate stream \(record.id)") { config in
            try origin.add(to: &config, maxOrigins: settings.maxOrigins, maxCacheBehaviors: settings.maxCacheBehaviors)
        }
    }

    public func dissociate(_ record: StreamRecord) throws {
        try edit("dissociate stream \(record.id)") { config in StreamOrigin.remove(streamId: record.id, from: &config) }
    }

    var configPath: String { "/2020-05-31/distribution/\(SignatureV4.uriEncode(settings.distributionId, keepSlash: false))/config" }

    /// Read, edit, conditional write; redone on `PreconditionFailed`.
    /// - Parameter change: edits the `DistributionConfig` element; returns whether it changed anything.
    func edit(_ what: String, _ change: (inout XMLTree.Element) throws -> Bool) throws {
        turn.lock()
        defer { turn.unlock() }
        for attempt in 1...settings.maxAttempts {
            let (etag, document) = try read()
            var tree = document
            guard var config = tree.root, config.name == "DistributionConfig" else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "cloudfront GetDistributionConfig: no DistributionConfig in the answer")
            }
            guard try change(&config) else { return }
            tree.root = config
            do {
                _ = try cloudfront.send(
                    method: "PUT", path: configPath, headers: [("If-Match", etag), ("Content-Type", "text/xml")], body: Array(tree.serialized.utf8))
                return
            } catch let error as AWSError where error.code == AWSError.Code.preconditionFailed {
                logger.debug("distribution changed meanwhile; editing again", metadata: ["attempt": "\(attempt)", "what": "\(what)"])
                let cap = min(2.0, 0.05 * Double(1 << min(attempt, 6)))
                Thread.sleep(forTimeInterval: Double.random(in: 0...cap))
            } catch let error as AWSError where ["TooManyOrigins", "TooManyCacheBehaviors"].contains(error.code) {
                throw ServiceError(.conflict, code: "cdn_limit", "the live distribution is full: \(error.code)")
            } catch {
                throw ServiceError.aws(error, doing: "UpdateDistribution")
            }
        }
        throw ServiceError(.upstreamUnavailable, code: "PreconditionFailed", "the live distribution kept changing; \(what) gave up after \(settings.maxAttempts) attempts")
    }

    private func read() throws -> (etag: String, document: XMLTree) {
        let response: HTTPResponse
        do {
            response = try cloudfront.send(method: "GET", path: configPath)
        } catch {
            throw ServiceError.aws(error, doing: "GetDistributionConfig")
        }
        guard let etag = response.headers["etag"], !etag.isEmpty else {
            throw ServiceError(.upstreamFailed, code: "InvalidResponse", "cloudfront GetDistributionConfig: no ETag")
        }
        do {
            return (etag, try XMLTree(parsing: String(decoding: response.body, as: UTF8.self)))
        } catch {
            throw ServiceError(.upstreamFailed, code: "InvalidResponse", "cloudfront GetDistributionConfig: \(error)")
        }
    }
}

/// Registers CDN plugin `cloudfront`.
public enum CloudFrontPlugin {
    public static let options = [
        ConfigOption("cdn.cloudfront.distribution_id", .string, default: nil, help: "id of the live distribution"),
        ConfigOption("cdn.cloudfront.live_domain", .string, default: nil, help: "host of viewer_endpoint_cloudfront (the distribution's domain or an alias)"),
        ConfigOption("cdn.cloudfront.max_origins", .integer(1...1000), default: "100", help: "origins the distribution may hold (CloudFront's default quota: 100)"),
        ConfigOption(
            "cdn.cloudfront.max_cache_behaviors", .integer(1...1000), default: "75", help: "cache behaviours the distribution may hold (CloudFront's default quota: 75)"),
        ConfigOption("cdn.cloudfront.max_attempts", .integer(1...100), default: "12", help: "edits of the distribution per request when other writers keep changing it"),
        ConfigOption(
            "cdn.cloudfront.forwarded_headers", .stringList, default: CloudFrontDistribution.Settings.corsRequestHeaders.joined(separator: ","),
            help: "request headers each stream's cache behaviour forwards to MediaPackage (default: the old deployment's CORS headers, which web players on other domains need)"),
    ] + AWSSettings.options

    /// What livestreamd needs: read and edit the one live distribution.
    public static func iamStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        let id = configuration.string("cdn.cloudfront.distribution_id") ?? "<cdn.cloudfront.distribution_id>"
        return [
            IAMStatement(
                sid: "LiveDistribution", actions: ["cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution"],
                resources: [scope.arn("cloudfront", "distribution/\(id)", regional: false)])
        ]
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerCDN("cloudfront", summary: "one shared CloudFront distribution, edited with If-Match", options: options) { context in
            let config = context.configuration
            let settings = CloudFrontDistribution.Settings(
                distributionId: try config.requiredString("cdn.cloudfront.distribution_id"), liveDomain: try config.requiredString("cdn.cloudfront.live_domain"),
                maxOrigins: config.int("cdn.cloudfront.max_origins"), maxCacheBehaviors: config.int("cdn.cloudfront.max_cache_behaviors"),
                maxAttempts: config.int("cdn.cloudfront.max_attempts"), forwardedHeaders: config.list("cdn.cloudfront.forwarded_headers"))
            let aws = try AWSSettings.shared(configuration: config, logger: context.logger)
            return CloudFrontDistribution(settings: settings, cloudfront: aws.service("cloudfront", logger: context.logger), logger: context.logger)
        }
    }
}
