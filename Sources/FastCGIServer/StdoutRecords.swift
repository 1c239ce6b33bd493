import CFastCGIFeed

/// FastCGI `FCGI_STDOUT` records of a large body, appended to the feed's output.
///
/// libfcgi's output stream cuts a record every 8 KB, which made a 1-MB listing 128
/// records. Here records carry up to 65,535 bytes. The stream's end (an empty record)
/// and `FCGI_END_REQUEST` still come from `FCGX_Finish_r`.
enum StdoutRecords {
    static let maxContent = 65535
    /// Bodies up to this size go through libfcgi's own buffer.
    static let bufferedBodyLimit = 32 * 1024
    private static let stdoutType: UInt8 = 6

    static func append(_ body: [UInt8], requestId: UInt16) {
        body.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                let length = min(maxContent, bytes.count - start)
                let header: [UInt8] = [1, stdoutType, UInt8(requestId >> 8), UInt8(requestId & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF), 0, 0]
                header.withUnsafeBufferPointer { _ = lsd_feed_append($0.baseAddress, 8) }
                _ = lsd_feed_append(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, length)
                start += length
            }
        }
    }
}
