import LivestreamCore

/// The one place where errors become HTTP statuses.
extension APIResponse {
    /// The HTTP status of an error kind.
    public static func status(of kind: ServiceError.Kind) -> Int {
        switch kind {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .payloadTooLarge: 413
        case .upstreamFailed: 502
        case .upstreamUnavailable: 503
        case .upstreamTimeout: 504
        case .insufficientStorage: 507
        case .internal: 500
        case .notImplemented: 501
        }
    }

    /// `{"message", "code"}` with the status of the error's kind.
    public static func error(_ error: ServiceError) -> APIResponse {
        var response = APIResponse.json(["message": .string(error.message), "code": .string(error.code.rawValue)], status: status(of: error.kind))
        response.failure = "\(error.code): \(error.message)"
        return response
    }
}
