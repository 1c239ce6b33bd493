#if canImport(Glibc)
import Glibc
#endif

/// FastCGI `FCGI_STDOUT` records written straight to the connection.
///
/// libfcgi's output stream flushes every 8 KB, which made a 1-MB listing 128 records
/// and 128 writes. Here records carry up to 65,535 bytes and go out through `writev`.
/// The stream's end (an empty record) and `FCGI_END_REQUEST` are still written by
/// `FCGX_Finish_r`.
enum StdoutRecords {
    static let maxContent = 65535
    private static let stdoutType: UInt8 = 6

    /// Writes `body` as STDOUT records of request `requestId`; false when the connection failed.
    static func write(_ body: [UInt8], requestId: UInt16, to fd: Int32) -> Bool {
        let chunkCount = (body.count + maxContent - 1) / maxContent
        var headers = [UInt8](repeating: 0, count: chunkCount * 8)
        for index in 0..<chunkCount {
            let length = min(maxContent, body.count - index * maxContent)
            headers.replaceSubrange(index * 8..<index * 8 + 8, with: [
                1, stdoutType, UInt8(requestId >> 8), UInt8(requestId & 0xFF),
                UInt8(length >> 8), UInt8(length & 0xFF), 0, 0,
            ])
        }
        return headers.withUnsafeBytes { headerBytes in
            body.withUnsafeBytes { bodyBytes in
                var vectors: [iovec] = []
                vectors.reserveCapacity(chunkCount * 2)
                for index in 0..<chunkCount {
                    let start = index * maxContent
                    let length = min(maxContent, body.count - start)
                    vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: headerBytes.baseAddress! + index * 8), iov_len: 8))
                    vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bodyBytes.baseAddress! + start), iov_len: length))
                }
                return writeAll(&vectors, fd: fd)
            }
        }
    }

    /// writev until every vector is written, resuming after partial writes.
    private static func writeAll(_ vectors: inout [iovec], fd: Int32) -> Bool {
        var first = 0
        while first < vectors.count {
            let batch = Int32(min(vectors.count - first, 1024))
            let written = vectors.withUnsafeBufferPointer { writev(fd, $0.baseAddress! + first, batch) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            var remaining = written
            while first < vectors.count, remaining >= vectors[first].iov_len {
                remaining -= vectors[first].iov_len
                first += 1
            }
            if remaining > 0 {
                vectors[first].iov_base += remaining
                vectors[first].iov_len -= remaining
            }
        }
        return true
    }
}
