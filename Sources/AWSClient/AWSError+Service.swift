import LivestreamCore

extension ServiceError {
    /// How an AWS failure reaches clients: 502 with the AWS error code for error answers,
    /// 503 for throttling, 5xx and unreachable endpoints, 504 for timeouts. Messages carry
    /// the service and code, never credentials.
    public static func aws(_ error: any Error, doing operation: String) -> any Error {
        switch error {
        case let error as AWSError where error.isRetryable:
            return ServiceError(.upstreamUnavailable, code: .init(rawValue: error.code), "\(error.service) \(operation): \(error.code) (\(error.status)): \(error.message)")
        case let error as AWSError:
            return ServiceError(.upstreamFailed, code: .init(rawValue: error.code), "\(error.service) \(operation): \(error.code) (\(error.status)): \(error.message)")
        case let error as TransportError where error.kind == .timeout:
            return ServiceError(.upstreamTimeout, code: "Timeout", "\(operation): no answer in time")
        case let error as TransportError:
            return ServiceError(.upstreamUnavailable, code: "Unreachable", "\(operation): \(error.message)")
        case let error as CredentialsError:
            return ServiceError(.upstreamFailed, code: "NoCredentials", "\(operation): \(error.message)")
        default:
            return error
        }
    }
}
