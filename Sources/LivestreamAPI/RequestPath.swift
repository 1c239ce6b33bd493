import Foundation

import LivestreamCore

/// Decoding and checking of the raw request path.
enum RequestPath {
    /// The decoded segments of `path` below `prefix`.
    ///
    /// Rejects (400) bad percent-encoding, control characters, `.`/`..` segments and
    /// encoded slashes; a path outside the prefix is 404.
    static func segments(of path: String, below prefix: String) throws(ServiceError) -> [String] {
        guard path.utf8.count <= 2048 else { throw .badRequest("the path is too long", code: "invalid_path") }
        var rest = Substring(path)
        if !prefix.isEmpty {
            guard rest.hasPrefix(prefix), rest.count == prefix.count || rest.dropFirst(prefix.count).hasPrefix("/") else {
                throw APIRoute.notFound
            }
            rest = rest.dropFirst(prefix.count)
        }
        var segments: [String] = []
        for raw in rest.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = percentDecode(raw) else {
                throw .badRequest("the path has invalid percent-encoding", code: "invalid_path")
            }
            if decoded == "." || decoded == ".." || decoded.utf8.contains(UInt8(ascii: "/")) {
                throw .badRequest("the path must not contain '.', '..' or encoded '/' segments", code: "invalid_path")
            }
            if decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw .badRequest("the path must not contain control characters", code: "invalid_path")
            }
            segments.append(decoded)
        }
        return segments
    }

    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// `application/x-www-form-urlencoded` fields (query strings and nginx-rtmp callbacks).
enum FormFields {
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let plus = { (s: Substring) in Substring(s.replacingOccurrences(of: "+", with: " ")) }
            guard let name = RequestPath.percentDecode(plus(parts[0])), !name.isEmpty else { continue }
            let value = parts.count > 1 ? RequestPath.percentDecode(plus(parts[1])) ?? "" : ""
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}

/// `GET /streams` query: `limit` and `next_token`.
struct ListQuery {
    var limit: Int?
    var nextToken: String?

    init(query: String) throws(ServiceError) {
        let fields = FormFields.parse(query)
        if let text = fields["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw .badRequest("limit must be an integer in 1...1000")
            }
            limit = value
        }
        if let token = fields["next_token"] {
            guard !token.isEmpty, token.utf8.count <= 1024, !token.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw .badRequest("next_token is not valid")
            }
            nextToken = token
        }
    }
}

/// `?after=N&limit=M` of the event journals.
struct EventQuery {
    var after: Int64 = 0
    var limit = 100

    init(query: String) throws(ServiceError) {
        let fields = FormFields.parse(query)
        if let text = fields["after"] {
            guard let value = Int64(text), value >= 0 else { throw .badRequest("after must be a sequence number, an integer of 0 or more") }
            after = value
        }
        if let text = fields["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw .badRequest("limit must be an integer in 1...1000") }
            limit = value
        }
    }
}

/// `?pipeline=1|2` of `GET /streams/{id}/thumbnail` (default 1).
struct ThumbnailQuery {
    var pipeline = 1

    init(query: String) throws(ServiceError) {
        if let text = FormFields.parse(query)["pipeline"] {
            guard let value = Int(text), (1...2).contains(value) else { throw .badRequest("pipeline must be 1 or 2", code: "invalid_pipeline") }
            pipeline = value
        }
    }
}
