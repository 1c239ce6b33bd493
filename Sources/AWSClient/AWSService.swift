import Foundation
import Logging

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
    let signer: SignatureV4
    let credentials: CredentialChain
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let logger: Logger

    public init(
        name: String, endpoints: AWSEndpoints, credentials: CredentialChain, transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(), logger: Logger
    ) {
        self.name = name
        self.endpoint = endpoints.url(for: name)
        // CloudFront signs in us-east-1 whatever the configured region.
        self.signer = SignatureV4(service: name, region: name == "cloudfront" ? "us-east-1" : endpoints.region)
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.logger = logger
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
    public func send(method: String, path: String, query: String = "", headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        let url = endpoint + path + (query.isEmpty ? "" : "?" + query)
        return try retry.run(service: name) { timeout in
            let signed = signer.sign(SignatureV4.Request(method: method, url: url, headers: headers, body: body), credentials: try credentials.credentials(), date: Date())
            let response = try transport.send(HTTPRequest(method: method, url: url, headers: signed.headers, body: body, timeout: timeout))
            guard (200...299).contains(response.status) else {
                let error = AWSError.parse(response, service: name)
                logger.debug("AWS error answer", metadata: ["service": "\(name)", "status": "\(error.status)", "code": "\(error.code)"])
                throw error
            }
            return response
        }
    }
}
