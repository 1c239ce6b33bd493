import LivestreamCore

/// An HTTP request as the API sees it, whatever transport delivered it.
public struct APIRequest: Sendable {
    public var method: String
    /// The raw path (still percent-encoded), without the query.
    public var path: String
    /// The raw query string (after `?`), or empty.
    public var query: String
    /// Header values by lower-case name.
    public var headers: [String: String]
    public var body: [UInt8]
    /// True when the request came through the internal (loopback-only) listener.
    public var isInternal: Bool

    public init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = [], isInternal: Bool = false) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.isInternal = isInternal
    }

    /// Splits a request target (`/streams?limit=5`) into path and query.
    public init(method: String, target: String, headers: [String: String] = [:], body: [UInt8] = [], isInternal: Bool = false) {
        if let mark = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<mark]), query: String(target[target.index(after: mark)...]), headers: headers, body: body, isInternal: isInternal)
        } else {
            self.init(method: method, path: target, headers: headers, body: body, isInternal: isInternal)
        }
    }
}

/// The API's answer.
public struct APIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// For the request log: why the request failed (`code: message`), never sent as such.
    public var failure: String?
    /// For metrics: the route's template (`/streams/{id}`), nil when no route matched.
    public var route: String?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ value: JSONValue, status: Int = 200) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serialized())
    }

    /// A stream record as the contract's JSON.
    public static func record(_ record: StreamRecord) -> APIResponse {
        APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: record.apiJSON)
    }

    /// A page of journaled events: `{"events": [...], "next_after": N}`; `next_after` (the last
    /// event's sequence number, or `after` when none came) is the `after` of the next page.
    static func events(_ events: [StreamEvent], after: Int64) -> APIResponse {
        .json(["events": .array(events.map(\.jsonValue)), "next_after": .int(events.last?.sequence ?? after)])
    }

    /// The value of a header (first match, case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
