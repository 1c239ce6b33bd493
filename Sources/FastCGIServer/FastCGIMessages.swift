#if canImport(Glibc)
import Glibc
#endif

/// A request as the web server handed it over: FastCGI params and the body.
public struct FastCGIRequest: Sendable {
    /// Every param (`REQUEST_METHOD`, `REQUEST_URI`, `HTTP_*` headers, ...).
    public let params: [String: String]
    public let body: [UInt8]

    public init(params: [String: String], body: [UInt8]) {
        self.params = params
        self.body = body
    }

    /// `REQUEST_METHOD`.
    public var method: String { params["REQUEST_METHOD"] ?? "GET" }

    /// The path of `REQUEST_URI` (or `DOCUMENT_URI`), without the query.
    public var path: String {
        let uri = params["REQUEST_URI"] ?? params["DOCUMENT_URI"] ?? "/"
        return uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
    }
}

/// The answer to a request.
public struct FastCGIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// For the request log: why a request failed (logged with 4xx/5xx answers, not sent).
    public var logReason: String?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], logReason: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logReason = logReason
    }
}

/// The id a request is known by in the log and in its answer's `X-Request-Id`: the web server's
/// or client's `X-Request-Id` when it is a plain token (so a trace crosses nginx), else a new one.
enum RequestId {
    static func of(_ params: [String: String]) -> String {
        if let given = params["HTTP_X_REQUEST_ID"], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy({ isalnum(Int32($0)) != 0 || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        {
            return given
        }
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next() as UInt64, generator.next() as UInt64)
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// What serves requests. Called on the server's worker threads, concurrently.
public protocol FastCGIResponder: Sendable {
    /// Answers one request; must not throw: errors are responses.
    func respond(to request: FastCGIRequest) -> FastCGIResponse

    /// The answer when the body is larger than the limit (the body is not read).
    func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse
}
