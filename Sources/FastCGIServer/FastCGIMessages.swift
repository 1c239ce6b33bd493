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

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// What serves requests. Called on the server's worker threads, concurrently.
public protocol FastCGIResponder: Sendable {
    /// Answers one request; must not throw: errors are responses.
    func respond(to request: FastCGIRequest) -> FastCGIResponse

    /// The answer when the body is larger than the limit (the body is not read).
    func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse
}
