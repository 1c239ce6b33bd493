import Foundation

/// A blocking FastCGI client over a unix socket, for the server tests.
final class TestClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next answer's status and body; nil if the connection closed first.
    func response() -> (status: Int, body: String)? {
        var stdout: [UInt8] = []
        while true {
            guard fill(8) else { return nil }
            let length = Int(buffer[4]) << 8 | Int(buffer[5])
            let total = 8 + length + Int(buffer[6])
            guard fill(total) else { return nil }
            let type = buffer[1]
            let content = Array(buffer[8..<(8 + length)])
            buffer.removeFirst(total)
            if type == 6 { stdout += content }
            if type == 3 { break }
        }
        let text = String(decoding: stdout, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n"), let status = Int(text.dropFirst("Status: ".count).prefix(3)) else { return nil }
        return (status, String(text[head.upperBound...]))
    }

    private func fill(_ count: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.count < count {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { return false }
            buffer += chunk[0..<got]
        }
        return true
    }
}
