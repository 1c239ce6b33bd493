/// A callback a plugin serves on the internal listener (loopback only, never under the API prefix).
public struct InternalEndpoint: Sendable {
    /// Path below `/_internal/`, e.g. `rtmp/publish`.
    public let path: String
    public let handle: @Sendable (InternalRequest) throws -> InternalResponse

    public init(path: String, handle: @escaping @Sendable (InternalRequest) throws -> InternalResponse) {
        self.path = path
        self.handle = handle
    }
}

/// A request to an internal endpoint: query and form fields merged (form wins).
public struct InternalRequest: Sendable {
    public let fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }
}

/// The answer to an internal request.
public struct InternalResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String

    public init(status: Int, headers: [(String, String)] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: InternalResponse, rhs: InternalResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }
}
