import Foundation
import LivestreamCore
import Logging
import Synchronization

/// Where each AWS service is reached: a region plus optional endpoint overrides (how tests reach an emulator).
public struct AWSEndpoints: Sendable, Equatable {
    public var region: String
    /// One endpoint for every service (`aws.endpoint`).
    public var shared: String?
    /// Per-service endpoints by signing name (`aws.endpoints.<service>`).
    public var perService: [String: String]

    public init(region: String, shared: String? = nil, perService: [String: String] = [:]) {
        self.region = region
        self.shared = shared
        self.perService = perService
    }

    /// The base URL for a service (no trailing slash).
    public func url(for service: String) -> String {
        var url = perService[service] ?? shared ?? AWSEndpoints.standard(service, region)
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    static func standard(_ service: String, _ region: String) -> String {
        switch service {
        case "cloudfront": "https://cloudfront.amazonaws.com"
        default: "https://\(service).\(region).amazonaws.com"
        }
    }
}

/// One AWS service: signs, sends and retries requests, and turns error answers into `AWSError`.
///
/// Speaks the wire protocols botocore's models name: `json` (JSON 1.0/1.1 with
/// `X-Amz-Target`), `rest-json` and `rest-xml` through `send`, whose callers build and
/// read the bodies.
public struct AWSService: Sendable {
    /// The signing name (`dynamodb`, `medialive`, `mediapackage`, `ssm`, `s3`, `cloudfront`).
    public let name: String
    public let endpoint: String
    let endpoints: AWSEndpoints
    let signer: SignatureV4
    let credentials: CredentialChain
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let logger: Logger
    /// The correction of this host's clock, shared by every client of the process.
    let clockSkew: ClockSkew

    public init(
        name: String, endpoints: AWSEndpoints, credentials: CredentialChain, transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(), logger: Logger, clockSkew: ClockSkew = .process
    ) {
        self.clockSkew = clockSkew
        self.name = name
        self.endpoints = endpoints
        self.endpoint = endpoints.url(for: name)
        // CloudFront signs in us-east-1 whatever the configured region.
        self.signer = SignatureV4(service: name, region: name == "cloudfront" ? "us-east-1" : endpoints.region)
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.logger = logger
    }

    /// The region requests are signed for (and, without an endpoint override, sent to).
    public var region: String { endpoints.region }

    /// The same client for another region (S3 buckets live in one region each).
    public func inRegion(_ region: String) -> AWSService {
        var moved = endpoints
        moved.region = region
        return AWSService(name: name, endpoints: moved, credentials: credentials, transport: transport, retry: retry, logger: logger, clockSkew: clockSkew)
    }

    /// A JSON-protocol call: `POST /` with `X-Amz-Target: <targetPrefix>.<operation>`.
    /// - Returns: the answer's body (JSON).
    public func json(targetPrefix: String, operation: String, version: String = "1.0", body: [UInt8]) throws -> [UInt8] {
        let response = try send(
            method: "POST", path: "/",
            headers: [("Content-Type", "application/x-amz-json-\(version)"), ("X-Amz-Target", "\(targetPrefix).\(operation)")], body: body)
        return response.body
    }

    /// Sends a request (path and query already percent-encoded), retrying per the policy.
    /// - Returns: a 2xx answer.
    /// - Throws: `AWSError` for error answers, `TransportError` when none came, `CredentialsError`.
    ///
    /// Two failures are corrected once before giving up, as the SDKs do: a request whose time
    /// was off (`RequestTimeTooSkewed`, a signature refused while the answer's `Date` is more
    /// than 4 minutes from ours) is signed again with the service's clock, from then on for
    /// every call of the process (`ClockSkew`); expired session credentials are loaded again.
    public func send(method: String, path: String, query: String = "", headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        var corrected = false
        while true {
            do {
                return try sendWithRetries(method: method, path: path, query: query, headers: headers, body: body)
            } catch let error as AWSError where !corrected {
                corrected = true
                if AWSError.expiredTokenCodes.contains(error.code) {
                    logger.notice("AWS said the credentials expired; loading them again", metadata: ["service": "\(name)"])
                    credentials.invalidate()
                    continue
                }
                if AWSError.skewCodes.contains(error.code), let serverDate = error.serverDate, clockSkew.adopt(serverDate: serverDate, now: Date()) {
                    logger.warning("this host's clock is off from AWS's; signing with AWS's time", metadata: ["service": "\(name)", "skew_s": "\(Int(clockSkew.offset))"])
                    continue
                }
                throw error
            }
        }
    }

    private func sendWithRetries(method: String, path: String, query: String, headers: [(String, String)], body: [UInt8]) throws -> HTTPResponse {
        let url = endpoint + path + (query.isEmpty ? "" : "?" + query)
        let operation = AWSService.operationLabel(method: method, path: path, headers: headers)
        var attempts = 0
        return try retry.run(service: name) { timeout in
            attempts += 1
            if attempts > 1 { ServiceMetrics.awsRetry(service: name, operation: operation) }
            do {
                let now = Date().addingTimeInterval(clockSkew.offset)
                let signed = signer.sign(SignatureV4.Request(method: method, url: url, headers: headers, body: body), credentials: try credentials.credentials(), date: now)
                let response = try transport.send(HTTPRequest(method: method, url: url, headers: signed.headers, body: body, timeout: timeout))
                guard (200...299).contains(response.status) else {
                    let error = AWSError.parse(response, service: name)
                    logger.debug("AWS error answer", metadata: ["service": "\(name)", "status": "\(error.status)", "code": "\(error.code)"])
                    throw error
                }
                ServiceMetrics.awsAttempt(service: name, operation: operation, outcome: "ok")
                return response
            } catch let error as AWSError {
                ServiceMetrics.awsAttempt(service: name, operation: operation, outcome: error.code)
                throw error
            } catch let error as TransportError {
                ServiceMetrics.awsAttempt(service: name, operation: operation, outcome: error.kind == .timeout ? "timeout" : "connection")
                throw error
            }
        }
    }

    /// A metric label for the call: the JSON protocols' `X-Amz-Target` operation, else the method
    /// and path with every segment that names a resource (digits, or long) as `{id}`, at most four.
    static func operationLabel(method: String, path: String, headers: [(String, String)]) -> String {
        if let target = headers.first(where: { $0.0.lowercased() == "x-amz-target" })?.1 {
            return String(target.split(separator: ".").last ?? Substring(target))
        }
        let segments = path.split(separator: "/").prefix(5).enumerated().map { index, segment in
            index == 4 ? "…" : segment.contains(where: \.isNumber) || segment.count > 24 ? "{id}" : String(segment)
        }
        return method + " /" + segments.joined(separator: "/")
    }
}

/// How far this host's clock is from AWS's, as learned from a refused request's `Date` header.
public final class ClockSkew: Sendable {
    public static let process = ClockSkew()
    /// Seconds to add to the local clock when signing.
    private let seconds = Mutex<TimeInterval>(0)
    /// Skew below this is not corrected (AWS accepts requests within 5 minutes).
    static let tolerance: TimeInterval = 240

    public init() {}

    public var offset: TimeInterval { seconds.withLock { $0 } }

    /// Takes the service's clock if ours is more than 4 minutes off it; true if that changed anything.
    func adopt(serverDate: Date, now: Date) -> Bool {
        let skew = serverDate.timeIntervalSince(now)
        return seconds.withLock { current in
            guard abs(skew - current) > ClockSkew.tolerance else { return false }
            current = skew
            return true
        }
    }
}
