import Foundation
import LivestreamCore
import Logging
import Synchronization

/// The `aws.*` configuration every AWS plugin shares, and the clients built from it.
public struct AWSSettings: Sendable {
    /// Services whose endpoint can be overridden one by one (`aws.endpoints.<service>`).
    public static let services = ["dynamodb", "medialive", "mediapackage", "ssm", "s3", "cloudfront", "iam", "sts"]

    public static let options: [ConfigOption] = [
        ConfigOption(
            "aws.region", .string, default: nil,
            help: "region of every AWS call; unset = AWS_REGION, AWS_DEFAULT_REGION, the profile's region (~/.aws/config), the EC2 instance's region"),
        ConfigOption("aws.endpoint", .string, default: nil, help: "one endpoint URL for every AWS service (emulators such as moto_server)"),
        ConfigOption("aws.access_key_id", .string, default: nil, help: "access key; unset = AWS_* variables, shared credentials file, ECS or EC2 role"),
        ConfigOption("aws.secret_access_key", .string, default: nil, help: "secret of aws.access_key_id", isSecret: true),
        ConfigOption("aws.session_token", .string, default: nil, help: "session token of temporary keys", isSecret: true),
        ConfigOption("aws.max_attempts", .integer(1...10), default: "3", help: "attempts per AWS call (throttling, 5xx and connection failures are retried)"),
        ConfigOption("aws.attempt_timeout_ms", .integer(100...300_000), default: "10000", help: "time limit of one attempt"),
        ConfigOption("aws.total_timeout_ms", .integer(100...900_000), default: "30000", help: "time limit of a call with all its retries"),
    ] + services.map { ConfigOption("aws.endpoints.\($0)", .string, default: nil, help: "endpoint URL for \($0) only") }

    public let endpoints: AWSEndpoints
    public let credentials: CredentialChain
    public let retry: RetryPolicy
    public let transport: any HTTPTransport

    /// Where the region was found (`aws.region`, `AWS_REGION`, a profile, instance metadata).
    public let regionSource: String

    /// Reads the `aws.*` keys and checks that credentials can be found (a clear start-up error otherwise).
    /// - Parameter logger: names the region and credential sources once per process (never a secret).
    public init(
        configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment, transport: any HTTPTransport = URLSessionTransport(),
        logger: Logger? = nil
    ) throws {
        var perService: [String: String] = [:]
        for service in AWSSettings.services {
            if let url = configuration.string("aws.endpoints.\(service)"), !url.isEmpty { perService[service] = url }
        }
        let shared = configuration.string("aws.endpoint").flatMap { $0.isEmpty ? nil : $0 }
        guard let (region, regionSource) = RegionChain.resolve(configured: configuration.string("aws.region"), environment: environment, transport: transport) else {
            throw ConfigurationError(
                "no AWS region: set aws.region (LIVESTREAM_AWS_REGION), AWS_REGION or AWS_DEFAULT_REGION, or a region in the profile of ~/.aws/config")
        }
        endpoints = AWSEndpoints(region: region, shared: shared, perService: perService)
        self.regionSource = regionSource
        self.transport = transport
        credentials = CredentialChain.standard(
            accessKeyId: configuration.string("aws.access_key_id"), secretAccessKey: configuration.string("aws.secret_access_key"),
            sessionToken: configuration.string("aws.session_token"), environment: environment, transport: transport,
            stsEndpoint: endpoints.url(for: "sts"), region: region)
        retry = RetryPolicy(
            maxAttempts: configuration.int("aws.max_attempts"), attemptTimeout: .milliseconds(configuration.int("aws.attempt_timeout_ms")),
            totalTimeout: .milliseconds(configuration.int("aws.total_timeout_ms")), quota: RetryQuota.process)
        do {
            _ = try credentials.credentials()
        } catch {
            throw ConfigurationError("\(error)")
        }
        if let logger {
            let announcement = "region \(region) from \(regionSource); credentials from \(credentials.source ?? "?")"
            if AWSSettings.announced.withLock({ $0.insert(announcement).inserted }) {
                logger.notice("aws", metadata: ["region": "\(region)", "region_source": "\(regionSource)", "credentials_source": "\(credentials.source ?? "?")"])
            }
        }
    }

    /// What was announced already (the log says it once per process).
    private static let announced = Mutex<Set<String>>([])

    /// Settings by their `aws.*` values: what `shared` made so far.
    private static let made = Mutex<[String: AWSSettings]>([:])

    /// The process's settings for these `aws.*` values: every AWS plugin gets the same region, the
    /// same credential chain (credentials resolved once: one STS or metadata call, not one per
    /// plugin) and the same HTTP connections.
    public static func shared(configuration: Configuration, logger: Logger? = nil) throws -> AWSSettings {
        let key = options.map { "\($0.key)=\(configuration.string($0.key) ?? "")" }.joined(separator: "\n")
        if let existing = made.withLock({ $0[key] }) { return existing }
        let settings = try AWSSettings(configuration: configuration, logger: logger)
        return made.withLock { made in
            if let first = made[key] { return first }  // built meanwhile by another thread
            made[key] = settings
            return settings
        }
    }

    /// A client for one service.
    public func service(_ name: String, logger: Logger) -> AWSService {
        AWSService(name: name, endpoints: endpoints, credentials: credentials, transport: transport, retry: retry, logger: logger)
    }
}
