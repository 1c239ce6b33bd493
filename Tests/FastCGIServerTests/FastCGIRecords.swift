/// FastCGI records as a web server sends them, for the tests.
enum FastCGIRecords {
    static func record(_ type: UInt8, id: UInt16 = 1, _ content: [UInt8] = [], padding: Int? = nil) -> [UInt8] {
        let pad = padding ?? (8 - content.count % 8) % 8
        return [1, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF), UInt8(pad), 0]
            + content + [UInt8](repeating: 0, count: pad)
    }

    static func length(_ value: Int, long: Bool = false) -> [UInt8] {
        guard long || value > 127 else { return [UInt8(value)] }
        return [UInt8((value >> 24) & 0x7F) | 0x80, UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func pair(_ name: String, _ value: String) -> [UInt8] {
        length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
    }

    static func begin(id: UInt16 = 1, keep: Bool = true, role: UInt16 = 1) -> [UInt8] {
        record(1, id: id, [UInt8(role >> 8), UInt8(role & 0xFF), keep ? 1 : 0, 0, 0, 0, 0, 0])
    }

    static func stream(_ type: UInt8, id: UInt16 = 1, _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        while start < data.count {
            let end = min(data.count, start + 65535)
            out += record(type, id: id, Array(data[start..<end]))
            start = end
        }
        return out + record(type, id: id)
    }

    static func request(method: String = "GET", uri: String = "/healthz", body: [UInt8] = [], id: UInt16 = 1, keep: Bool = true) -> [UInt8] {
        let params = pair("REQUEST_METHOD", method) + pair("REQUEST_URI", uri) + pair("CONTENT_LENGTH", body.isEmpty ? "" : "\(body.count)")
        return begin(id: id, keep: keep) + stream(4, id: id, params) + stream(5, id: id, body)
    }
}
