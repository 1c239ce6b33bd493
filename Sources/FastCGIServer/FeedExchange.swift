import CFastCGI
import CFastCGIFeed

#if canImport(Glibc)
import Glibc
#endif

/// Runs libfcgi over one complete, validated request held in memory.
///
/// libfcgi parses the records and params, reads the body and writes the answer's
/// records exactly as it would on a socket, but through the feed (see
/// `Sources/CFastCGIFeed`): it never touches the connection, so it can neither block
/// on a slow peer nor meet bytes the framer has not checked. One exchange per thread:
/// the feed is thread-local.
final class FeedExchange {
    /// What one request produced.
    struct Outcome {
        let request: FastCGIRequest
        let response: FastCGIResponse
        /// Echoed in `X-Request-Id` and logged.
        let requestId: String
        /// The answer's FastCGI records (valid until this thread's next exchange).
        let output: UnsafeRawBufferPointer
        /// libfcgi closes the connection after this answer (the web server did not ask to keep it).
        let closes: Bool
    }

    private let request: UnsafeMutablePointer<FCGX_Request>
    private let chunk: UnsafeMutableRawBufferPointer

    init() {
        FCGX_Init()  // once per process; later calls return at once
        request = .allocate(capacity: 1)
        chunk = .allocate(byteCount: 65536, alignment: 16)
        FCGX_InitRequest(request, -1, 0)
    }

    deinit {
        request.deallocate()
        chunk.deallocate()
    }

    /// Serves `feed` (BEGIN_REQUEST through the empty STDIN record) on behalf of connection `fd`.
    /// - Returns: nil when libfcgi rejects the request (the framer should have refused it).
    func serve(_ feed: UnsafeRawBufferPointer, fd: Int32, bodyTooLarge: Bool, maxBodyBytes: Int, responder: any FastCGIResponder) -> Outcome? {
        lsd_feed_begin(feed.baseAddress?.assumingMemoryBound(to: UInt8.self), feed.count)
        defer { lsd_feed_end() }
        request.pointee.ipcFd = fd
        request.pointee.keepConnection = 1  // so FCGX_Accept_r's opening finish keeps fd
        guard FCGX_Accept_r(request) == 0 else {
            request.pointee.ipcFd = -1
            return nil
        }
        let params = FeedExchange.params(request.pointee.envp)
        let fastCGIRequest: FastCGIRequest
        var response: FastCGIResponse
        if bodyTooLarge {
            fastCGIRequest = FastCGIRequest(params: params, body: [])
            response = responder.payloadTooLarge(fastCGIRequest, limit: maxBodyBytes)
        } else {
            fastCGIRequest = FastCGIRequest(params: params, body: body(request.pointee.in))
            response = responder.respond(to: fastCGIRequest)
        }
        let requestId = RequestId.of(params)
        response.headers.append(("X-Request-Id", requestId))
        write(response)
        FCGX_Finish_r(request)
        let closes = lsd_feed_close_requested() != 0 || request.pointee.ipcFd < 0
        request.pointee.ipcFd = -1
        var length = 0
        let output = lsd_feed_output(&length)
        return Outcome(
            request: fastCGIRequest, response: response, requestId: requestId, output: UnsafeRawBufferPointer(start: output, count: length), closes: closes)
    }

    /// Gives back output memory a large answer left behind.
    static func trimOutput() { lsd_feed_trim(2 << 20) }

    private static func params(_ envp: FCGX_ParamArray?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        while let entry = cursor.pointee {
            // "NAME=value", split on the bytes: no String index walks.
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let text = UnsafeBufferPointer(start: bytes, count: length)
                if let equals = text.firstIndex(of: UInt8(ascii: "=")) {
                    params[String(decoding: text[..<equals], as: UTF8.self)] = String(decoding: text[(equals + 1)...], as: UTF8.self)
                }
            }
            cursor += 1
        }
        return params
    }

    /// The body as libfcgi's STDIN stream gives it (the framer has bounded it).
    private func body(_ stream: UnsafeMutablePointer<FCGX_Stream>?) -> [UInt8] {
        guard let stream else { return [] }
        var body: [UInt8] = []
        let buffer = chunk.bindMemory(to: CChar.self)
        while true {
            let count = Int(FCGX_GetStr(buffer.baseAddress, Int32(buffer.count), stream))
            if count <= 0 { return body }
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
    }

    private func write(_ response: FastCGIResponse) {
        guard let stream = request.pointee.out else { return }
        var head: [UInt8] = []
        head.reserveCapacity(256)
        head += "Status: ".utf8
        head += String(response.status).utf8
        head.append(0x20)
        head += HTTPStatus.reason(response.status).utf8
        head += "\r\n".utf8
        for (name, value) in response.headers {
            head += name.utf8
            head += ": ".utf8
            // Header injection guard: values never carry line breaks.
            head += value.utf8.lazy.filter { $0 != 0x0D && $0 != 0x0A }
            head += "\r\n".utf8
        }
        head += "Content-Length: ".utf8
        head += String(response.body.count).utf8
        head += "\r\n\r\n".utf8
        FeedExchange.put(head, stream)
        if response.body.count <= StdoutRecords.bufferedBodyLimit {
            FeedExchange.put(response.body, stream)
        } else {
            // libfcgi cuts output into 8-KB records; a large body goes out as 64-KB records.
            FCGX_FFlush(stream)
            StdoutRecords.append(response.body, requestId: UInt16(truncatingIfNeeded: request.pointee.requestId))
        }
    }

    private static func put(_ bytes: [UInt8], _ stream: UnsafeMutablePointer<FCGX_Stream>) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), stream)
            }
        }
    }

    /// Checks once at start-up that libfcgi reads and writes through the feed.
    ///
    /// The feed relies on the dynamic linker binding libfcgi's `OS_Read`/`OS_Write` calls
    /// to livestreamd's; a libfcgi linked with `-Bsymbolic` would bypass it.
    static func selfCheck() -> Bool {
        struct Probe: FastCGIResponder {
            func respond(to request: FastCGIRequest) -> FastCGIResponse {
                FastCGIResponse(status: request.params["PROBE"] == "1" && request.body == [42] ? 204 : 500)
            }
            func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse { FastCGIResponse(status: 413) }
        }
        var feed: [UInt8] = [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
        feed += [1, 4, 0, 1, 0, 8, 0, 0, 5, 1] + Array("PROBE1".utf8) + [1, 4, 0, 1, 0, 0, 0, 0]
        feed += [1, 5, 0, 1, 0, 1, 0, 0, 42, 1, 5, 0, 1, 0, 0, 0, 0]
        let exchange = FeedExchange()
        // An fd that cannot be read or written: if libfcgi bypassed the feed, it would fail.
        return feed.withUnsafeBytes { bytes in
            guard let outcome = exchange.serve(bytes, fd: Int32.max, bodyTooLarge: false, maxBodyBytes: 16, responder: Probe()) else { return false }
            return outcome.response.status == 204 && !outcome.closes && outcome.output.count > 16
        }
    }
}
