#if canImport(Glibc)
import Glibc
#endif

/// The one error type the controller and plugins report to clients.
///
/// `kind` says which class of failure it is (the API layer maps kinds to HTTP
/// statuses in one place); `code` is a stable machine-readable name and `message`
/// a sentence for people. Messages never carry secrets.
public struct ServiceError: Error, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable, Equatable {
        case badRequest
        case unauthorized
        case forbidden
        case notFound
        case methodNotAllowed
        case conflict
        case payloadTooLarge
        /// An upstream service (AWS, nginx) answered with an error.
        case upstreamFailed
        /// An upstream service could not be reached.
        case upstreamUnavailable
        /// An upstream service did not answer in time.
        case upstreamTimeout
        /// The disk or quota the service writes to is full.
        case insufficientStorage
        /// A bug or an environment problem (permissions, a corrupt file).
        case `internal`
        /// The configured backend cannot do this (a store that keeps no event journal).
        case notImplemented
    }

    /// A stable machine-readable error name. The service's own are the constants below (matched
    /// by the code that handles them); an upstream error keeps the upstream's name.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }

        public static let invalidRequest: Code = "invalid_request"
        public static let streamNotFound: Code = "stream_not_found"
        public static let versionConflict: Code = "version_conflict"
        public static let stateConflict: Code = "state_conflict"
        public static let alreadyExists: Code = "already_exists"
        public static let insufficientStorage: Code = "insufficient_storage"
        public static let internalError: Code = "internal_error"
    }

    public let kind: Kind
    public let code: Code
    public let message: String

    public init(_ kind: Kind, code: Code, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The upstream gave no answer (unreachable, or not in time): the call may or may not have taken effect.
    public var isNoAnswer: Bool { kind == .upstreamUnavailable || kind == .upstreamTimeout }

    /// 400 with code `invalid_request`.
    public static func badRequest(_ message: String, code: Code = .invalidRequest) -> ServiceError {
        ServiceError(.badRequest, code: code, message)
    }

    /// 404 for an unknown stream.
    public static func streamNotFound(_ id: String) -> ServiceError {
        ServiceError(.notFound, code: .streamNotFound, "stream \(id) does not exist")
    }

    /// 409 because the record changed under us.
    public static func versionConflict(_ id: String) -> ServiceError {
        ServiceError(.conflict, code: .versionConflict, "stream \(id) was changed by another request; retry")
    }

    /// 409 because the stream is not in a state that allows the action.
    public static func stateConflict(_ message: String) -> ServiceError {
        ServiceError(.conflict, code: .stateConflict, message)
    }

    /// A failed file operation: 507 when the disk or quota is full, else 500; the message names the cause.
    public static func fileOperation(_ operation: String, errno code: Int32) -> ServiceError {
        let message = "\(operation): \(String(cString: strerror(code)))"
        if code == ENOSPC || code == EDQUOT {
            return ServiceError(.insufficientStorage, code: .insufficientStorage, message)
        }
        return .internal(message)
    }

    /// 500 for environment problems; the message should say what to check.
    public static func `internal`(_ message: String) -> ServiceError {
        ServiceError(.internal, code: .internalError, message)
    }
}
