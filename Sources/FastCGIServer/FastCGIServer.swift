import CFastCGI
import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A FastCGI responder server over libfcgi: worker threads share one epoll set.
///
/// libfcgi's own accept loop ties a thread to a connection for as long as the web
/// server keeps it open (`fastcgi_keep_conn`), so idle kept connections can starve
/// new ones. Here every worker waits in `epoll_wait` on the listening socket, a
/// shutdown event and the idle kept connections (one-shot), and serves whatever
/// becomes ready; an idle connection costs no thread. libfcgi still parses and
/// writes the protocol: a worker hands it a ready connection through the public
/// `FCGX_Request.ipcFd` field and reads `keepConnection` back.
///
/// Threads are plain threads, never the Swift concurrency pool: every libfcgi
/// call blocks (see shared/FINDINGS.md).
public final class FastCGIServer: Sendable {
    private let configuration: FastCGIServerConfiguration
    private let responder: any FastCGIResponder
    private let logger: Logger
    private let listenFd: Int32
    private let epollFd: Int32
    private let wakeFd: Int32
    private let createdSocketPath: String?
    /// Kept connections waiting in the epoll set, so shutdown can close them.
    private let parked: ParkedConnections
    private let finished = DispatchGroup()
    private let stopRequested = DispatchSemaphore(value: 0)
    private let gate: WaiterGate

    /// Opens the listener and the epoll set; `run()` starts serving.
    public init(configuration: FastCGIServerConfiguration, responder: any FastCGIResponder, logger: Logger) throws {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        parked = ParkedConnections(capacity: Int(min(limit.rlim_cur, 1 << 20)))
        gate = WaiterGate(limit: max(2, ProcessInfo.processInfo.activeProcessorCount), workers: configuration.workers)
        guard FCGX_Init() == 0 else { throw FastCGIServerError("libfcgi failed to initialise") }

        switch configuration.listener {
        case .inherited:
            var accepting: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else {
                throw FastCGIServerError("fd 0 is not a listening socket: set server.socket or start the service with spawn-fcgi")
            }
            listenFd = 0
            createdSocketPath = nil
        case .unixSocket(let path, let mode):
            listenFd = try FastCGIServer.openUnixSocket(path: path, mode: mode, backlog: configuration.backlog)
            createdSocketPath = path
        }
        _ = fcntl(listenFd, F_SETFL, fcntl(listenFd, F_GETFL) | O_NONBLOCK)

        epollFd = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epollFd >= 0, wakeFd >= 0 else { throw FastCGIServerError("cannot create the epoll set", errno: errno) }
        // The listener wakes one waiter per connection; the shutdown event stays readable and wakes them all.
        try FastCGIServer.control(epollFd, EPOLL_CTL_ADD, listenFd, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        try FastCGIServer.control(epollFd, EPOLL_CTL_ADD, wakeFd, events: EPOLLIN.rawValue)
    }

    /// Serves until `shutdown()`, then waits for in-flight requests (at most `drainTimeout`).
    /// - Returns: true if every worker finished in time.
    @discardableResult
    public func run(drainTimeout: Duration = .seconds(4)) -> Bool {
        for index in 0..<max(1, configuration.workers) {
            finished.enter()
            let thread = Thread { [self] in
                self.serveLoop()
                self.finished.leave()
            }
            thread.name = "fcgi-worker-\(index)"
            thread.start()
        }
        logger.info("listening", metadata: ["workers": "\(configuration.workers)", "socket": "\(createdSocketPath ?? "fd 0")"])
        stopRequested.wait()
        return finished.wait(timeout: .now() + FastCGIServer.seconds(drainTimeout)) == .success
    }

    /// Stops accepting, closes idle kept connections and lets in-flight requests finish. Safe from any thread.
    ///
    /// The listening socket goes at once (path unlinked, fd closed), so the web server
    /// gets an immediate refusal instead of queueing new requests behind the drain.
    public func shutdown() {
        guard !parked.isDraining else { return }
        parked.startDraining()
        _ = try? FastCGIServer.control(epollFd, EPOLL_CTL_DEL, listenFd, events: 0)
        if let path = createdSocketPath { unlink(path) }
        close(listenFd)
        for fd in parked.claimAll() { close(fd) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFd, &one, 8)
        gate.stop()
        stopRequested.signal()
    }

    private func serveLoop() {
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer {
            request.deallocate()
            buffer.deallocate()
        }
        FCGX_InitRequest(request, -1, 0)
        var event = epoll_event()
        while gate.enter() {
            let count = epoll_wait(epollFd, &event, 1, -1)
            gate.leave()
            if count < 0 {
                if errno == EINTR { continue }
                logger.error("epoll_wait failed", metadata: ["errno": "\(errno)"])
                return
            }
            guard count == 1 else { continue }
            let fd = event.data.fd
            if fd == wakeFd { return }
            if fd == listenFd {
                let connection = accept(listenFd, nil, nil)
                guard connection >= 0 else { continue }  // another worker took it
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                serve(connection, request, buffer)
            } else if claim(fd) {
                serve(fd, request, buffer)
            }
        }
    }

    /// Takes an idle connection out of the parked set; false if shutdown already closed it.
    private func claim(_ fd: Int32) -> Bool {
        parked.claim(fd)
    }

    /// Puts a kept connection back into the epoll set (marked first, so its event finds it parked), or closes it when draining.
    private func park(_ fd: Int32) {
        guard parked.park(fd) else {
            close(fd)
            return
        }
        let events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
        if (try? FastCGIServer.control(epollFd, EPOLL_CTL_MOD, fd, events: events)) == nil,
            (try? FastCGIServer.control(epollFd, EPOLL_CTL_ADD, fd, events: events)) == nil
        {
            if parked.claim(fd) { close(fd) }
            return
        }
        // Shutdown may have swept the parked set between the mark and the arm.
        if parked.isDraining, parked.claim(fd) { close(fd) }
    }

    /// Reads one request from a ready connection, answers it and parks or closes the connection.
    private func serve(_ fd: Int32, _ request: UnsafeMutablePointer<FCGX_Request>, _ buffer: UnsafeMutableRawBufferPointer) {
        request.pointee.ipcFd = fd
        request.pointee.keepConnection = 1  // so FCGX_Accept_r's opening finish does not close fd
        guard FCGX_Accept_r(request) == 0 else {
            // The web server closed the connection; libfcgi has closed fd.
            request.pointee.ipcFd = -1
            return
        }
        let started = ContinuousClock.now
        let params = readParams(request.pointee.envp)
        let head = FastCGIRequest(params: params, body: [])
        let response: FastCGIResponse
        let declaredLength = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
        if declaredLength > configuration.maxBodyBytes {
            response = responder.payloadTooLarge(head, limit: configuration.maxBodyBytes)
            request.pointee.keepConnection = 0  // the unread body must not reach the next request
        } else if let body = readBody(request.pointee.in, expected: declaredLength, buffer: buffer) {
            response = responder.respond(to: FastCGIRequest(params: params, body: body))
        } else {
            response = responder.payloadTooLarge(head, limit: configuration.maxBodyBytes)
            request.pointee.keepConnection = 0
        }
        write(response, to: request)
        FCGX_Finish_r(request)
        let elapsed = ContinuousClock.now - started
        logger.info(
            "request",
            metadata: [
                "method": "\(head.method)", "path": "\(head.path)", "status": "\(response.status)",
                "ms": "\((FastCGIServer.seconds(elapsed) * 1e5).rounded() / 100)",
            ])
        let kept = request.pointee.ipcFd
        request.pointee.ipcFd = -1
        if kept >= 0 { park(kept) }
    }

    private func readParams(_ envp: FCGX_ParamArray?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                params[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return params
    }

    /// The body, or nil when it is longer than the limit (a missing CONTENT_LENGTH reads to the end).
    ///
    /// Always reads to the end of the stream, even for an empty body, so a kept
    /// connection is positioned at the next request.
    private func readBody(_ stream: UnsafeMutablePointer<FCGX_Stream>?, expected: Int, buffer: UnsafeMutableRawBufferPointer) -> [UInt8]? {
        guard let stream else { return [] }
        let limit = configuration.maxBodyBytes
        var body: [UInt8] = []
        body.reserveCapacity(min(expected, limit))
        let chunk = buffer.bindMemory(to: CChar.self)
        while true {
            let count = Int(FCGX_GetStr(chunk.baseAddress, Int32(chunk.count), stream))
            if count <= 0 { return body }
            if body.count + count > limit { return nil }
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    private func write(_ response: FastCGIResponse, to request: UnsafeMutablePointer<FCGX_Request>) {
        guard let stream = request.pointee.out else { return }
        var head = "Status: \(response.status) \(FastCGIServer.reason(response.status))\r\n"
        for (name, value) in response.headers {
            // Header injection guard: values never carry line breaks.
            head += name + ": " + value.filter { $0 != "\r" && $0 != "\n" } + "\r\n"
        }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        put(Array(head.utf8), stream)
        if response.body.count <= FastCGIServer.bufferedBodyLimit {
            put(response.body, stream)
        } else {
            // libfcgi cuts output into 8-KB records; a large body goes out as 64-KB records in a few writev calls.
            FCGX_FFlush(stream)
            if !StdoutRecords.write(response.body, requestId: UInt16(truncatingIfNeeded: request.pointee.requestId), to: request.pointee.ipcFd) {
                request.pointee.keepConnection = 0
            }
        }
    }

    /// Bodies up to this size go through libfcgi's buffer.
    static let bufferedBodyLimit = 32 * 1024

    private func put(_ bytes: [UInt8], _ stream: UnsafeMutablePointer<FCGX_Stream>) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), stream)
            }
        }
    }

    private static func control(_ epollFd: Int32, _ operation: Int32, _ fd: Int32, events: UInt32) throws {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFd, operation, fd, &event) == 0 else {
            throw FastCGIServerError("epoll_ctl failed", errno: errno)
        }
    }

    private static func openUnixSocket(path: String, mode: UInt32, backlog: Int32) throws -> Int32 {
        var status = stat()
        if lstat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFSOCK else {
                throw FastCGIServerError("\(path) exists and is not a socket; refusing to replace it")
            }
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw FastCGIServerError("socket path \(path) is longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FastCGIServerError("cannot create a unix socket", errno: errno) }
        // Bind with a restrictive umask so the socket never exists with wider permissions than asked.
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw FastCGIServerError("cannot bind \(path)", errno: code)
        }
        guard chmod(path, mode_t(mode)) == 0, listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw FastCGIServerError("cannot listen on \(path)", errno: code)
        }
        return fd
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 302: "Found"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Payload Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
