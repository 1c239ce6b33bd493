import AWSClient
import Foundation
import LivestreamCore

/// The three AWS services the `medialive` plugin drives, one call shape each.
///
/// Calls throw the AWS client's own errors (`AWSError`, `TransportError`, ...), so
/// teardown can tell "already gone" (404) from a failure; use cases turn them into
/// `ServiceError`s with `failure(_:doing:)`.
struct MediaServices: Sendable {
    let medialive: AWSService
    let mediapackage: AWSService
    let ssm: AWSService

    /// A REST-JSON call (MediaLive, MediaPackage); the answer's JSON, `{}` when empty.
    func rest(_ service: AWSService, _ method: String, _ path: String, query: String = "", body: JSONValue? = nil) throws -> JSONValue {
        let bytes = body.map { $0.serialized() } ?? []
        let headers = body == nil ? [] : [("Content-Type", "application/json")]
        let response = try service.send(method: method, path: path, query: query, headers: headers, body: bytes)
        return response.body.isEmpty ? [:] : try JSONValue.parse(response.body, maxDepth: 256)
    }

    /// An SSM call (JSON 1.1 protocol).
    func ssm(_ operation: String, _ body: JSONValue) throws -> JSONValue {
        let answer = try ssm.json(targetPrefix: "AmazonSSM", operation: operation, version: "1.1", body: body.serialized())
        return answer.isEmpty ? [:] : try JSONValue.parse(answer, maxDepth: 64)
    }

    /// Whether the error says the resource does not exist (what a repeated delete meets).
    static func isNotFound(_ error: any Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return error.status == 404 || error.code == AWSError.Code.notFound || error.code == AWSError.Code.parameterNotFound
    }

    /// The client's view of a failed call: 502/503/504 with the AWS code.
    /// - Parameter secrets: text the message must not carry (an AWS message may quote a request field).
    static func failure(_ error: any Error, doing operation: String, hiding secrets: [String] = []) -> any Error {
        if error is JSONParseError {
            return ServiceError(.upstreamFailed, code: "InvalidResponse", "\(operation): unreadable answer")
        }
        guard let mapped = ServiceError.aws(error, doing: operation) as? ServiceError, !secrets.isEmpty else {
            return ServiceError.aws(error, doing: operation)
        }
        let message = secrets.reduce(mapped.message) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
        return ServiceError(mapped.kind, code: mapped.code, message)
    }
}
