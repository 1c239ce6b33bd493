import CFastCGI
import CSocketSupport
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One server thread: polls a loop, or rests as a spare until a loop needs a poller.
final class Worker {
    /// How a stint as a loop's poller ended.
    enum PollEnd { case detached, stopped }

    private let context: ServerContext
    private let exchange = FeedExchange()
    /// Reads land here first; most requests are served from it without a copy.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    private let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 64)
    private static let batch: Int32 = 64

    init(context: ServerContext) {
        self.context = context
    }

    deinit {
        scratch.deallocate()
        events.deallocate()
    }

    private var configuration: FastCGIServerConfiguration { context.configuration }

    /// Runs until shutdown: first `loop` (if given), then whatever loop the pool hands over.
    func run(startingWith loop: EventLoop?) {
        configuration.hooks?.started()
        defer { configuration.hooks?.beforeWaiting() }
        var next = loop
        while true {
            if let current = next {
                if poll(current) == .stopped { return }
                configuration.hooks?.beforeWaiting()
            }
            next = context.pool.awaitLoop()
            if next == nil { return }
        }
    }

    // MARK: - Polling

    private func poll(_ loop: EventLoop) -> PollEnd {
        while true {
            if loop.draining && loop.connections.isEmpty { return .stopped }
            let count = waitForEvents(loop)
            if count < 0 {
                if errno == EINTR { continue }
                context.logger.error("epoll_wait failed", metadata: ["errno": "\(errno)"])
                return .stopped
            }
            let now = Clock.milliseconds()
            var end: PollEnd?
            for index in 0..<Int(count) where end == nil {
                let event = events[index]
                switch event.data.u64 {
                case EventLoop.Marker.listener.rawValue: accept(on: loop, now: now)
                case EventLoop.Marker.wake.rawValue: startDraining(loop)
                case EventLoop.Marker.handover.rawValue: receiveHandedOver(on: loop, now: now)
                default:
                    let connection = Unmanaged<Connection>.fromOpaque(event.data.ptr!).takeUnretainedValue()
                    if connection.isClosed || connection.busy.load(ordering: .acquiring) { continue }
                    end = handle(connection, events: event.events, on: loop, now: now)
                }
            }
            // Detached: the loop (and all its state) is another thread's now; leave it untouched.
            if end == .detached { return .detached }
            loop.closedInBatch.removeAll(keepingCapacity: true)
            if let end { return end }
            if now >= loop.nextSweep || loop.draining { sweep(loop, now: now) }
        }
    }

    /// `epoll_wait`; deferred work (batched log lines) is done only when it would block.
    private func waitForEvents(_ loop: EventLoop) -> Int32 {
        let timeout = pollTimeout(loop)
        if let hooks = configuration.hooks, hooks.hasDeferredWork() {
            let ready = epoll_wait(loop.epollFd, events, Worker.batch, 0)
            if ready != 0 { return ready }
            hooks.beforeWaiting()
        }
        return epoll_wait(loop.epollFd, events, Worker.batch, timeout)
    }

    private func pollTimeout(_ loop: EventLoop) -> Int32 {
        if loop.draining { return 10 }
        if loop.connections.isEmpty && loop.acceptPausedUntil == 0 { return -1 }
        return Int32(configuration.sweepIntervalMilliseconds)
    }

    // MARK: - Accepting

    private func accept(on loop: EventLoop, now: UInt64) {
        let fd = lsd_accept(context.listenFd)
        guard fd >= 0 else {
            switch errno {
            case EAGAIN, EINTR, ECONNABORTED: break
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors: stop taking connections on this loop for a moment.
                context.refusals.note(.outOfDescriptors, detail: String(cString: strerror(errno)))
                loop.unwatch(context.listenFd)
                loop.acceptPausedUntil = now + 100
            default:
                context.logger.error("accept failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
            }
            return
        }
        let open = context.connectionCount.add(1, ordering: .relaxed).newValue
        guard open <= configuration.maxConnections else {
            context.connectionCount.subtract(1, ordering: .relaxed)
            close(fd)
            context.refusals.note(.connectionLimit, detail: "\(configuration.maxConnections) connections open")
            return
        }
        adopt(fd, on: loop, now: now)
    }

    /// Starts serving connection `fd` on `loop` (accepted, or handed over by a predecessor).
    @discardableResult
    private func adopt(_ fd: Int32, on loop: EventLoop, now: UInt64) -> Connection? {
        let connection = Connection(fd: fd, framer: context.newFramer())
        connection.deadline = now + UInt64(configuration.readTimeoutMilliseconds)
        guard loop.add(connection) else {
            close(fd)
            connection.isClosed = true
            context.connectionCount.subtract(1, ordering: .relaxed)
            return nil
        }
        return connection
    }

    // MARK: - Connections

    private func handle(_ connection: Connection, events: UInt32, on loop: EventLoop, now: UInt64) -> PollEnd? {
        if connection.phase == .writing {
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 && events & EPOLLOUT.rawValue == 0 {
                closeConnection(connection, on: loop)
            } else {
                writePending(connection, on: loop, now: now)
            }
            return nil
        }
        return receive(connection, on: loop, now: now)
    }

    /// One read, then serve whatever complete request is buffered.
    private func receive(_ connection: Connection, on loop: EventLoop, now: UInt64) -> PollEnd? {
        let count: Int
        let fromScratch = connection.input.isEmpty
        if fromScratch {
            count = read(connection.fd, scratch.baseAddress, scratch.count)
        } else {
            guard connection.input.reserve(16384) else {
                closeConnection(connection, on: loop)
                return nil
            }
            let spare = connection.input.spare
            count = read(connection.fd, spare.baseAddress, spare.count)
        }
        if count <= 0 {
            if count < 0 && (errno == EAGAIN || errno == EINTR) { return nil }
            // A peer leaving between requests is normal; leaving inside one is worth a line.
            if !connection.input.isEmpty || connection.phase == .reading {
                context.refusals.note(.closedMidRequest, detail: count < 0 ? String(cString: strerror(errno)) : "end of stream")
            }
            closeConnection(connection, on: loop)
            return nil
        }
        if fromScratch {
            return serveBuffered(connection, bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<count]), inScratch: true, on: loop, now: now)
        }
        connection.input.didAppend(count)
        return serveBuffered(connection, bytes: connection.input.bytes, inScratch: false, on: loop, now: now)
    }

    /// Scans `bytes` (the connection's unserved input) and serves the requests in it.
    private func serveBuffered(_ connection: Connection, bytes: UnsafeRawBufferPointer, inScratch: Bool, on loop: EventLoop, now: UInt64) -> PollEnd? {
        var bytes = bytes
        var inScratch = inScratch
        while true {
            switch connection.framer.scan(bytes) {
            case .refused(let refusal):
                context.refusals.note(.protocolViolation, detail: refusal.description)
                closeConnection(connection, on: loop)
                return nil
            case .incomplete:
                if inScratch {
                    guard connection.input.append(bytes) else {
                        closeConnection(connection, on: loop)
                        return nil
                    }
                }
                if connection.framer.bodyTooLarge {
                    connection.input.remove(connection.framer.paramsEnd..<connection.framer.scanned)
                    connection.framer.discarded()
                }
                if connection.phase != .reading {
                    connection.phase = .reading
                    connection.deadline = now + UInt64(configuration.readTimeoutMilliseconds)
                }
                return nil
            case .complete(let length):
                let framer = connection.framer
                connection.framer = context.newFramer()
                // Bytes after the request (a pipelined next one) go back to the connection first:
                // once the request has run, the connection may belong to another thread.
                // Buffered bytes move out of the connection with the request they hold.
                var request = inScratch ? InputBuffer() : connection.input.take()
                guard connection.input.append(UnsafeRawBufferPointer(rebasing: bytes[length...])) else {
                    closeConnection(connection, on: loop)
                    return nil
                }
                let end = serve(connection, request: UnsafeRawBufferPointer(rebasing: bytes[0..<length]), framer: framer, on: loop)
                request.release()
                if end != nil { return end }  // after a takeover the connection is not ours to look at
                if connection.isClosed || connection.phase != .idle || connection.input.isEmpty { return nil }
                bytes = connection.input.bytes
                inScratch = false
            }
        }
    }

    /// Runs one complete request and starts writing its answer.
    private func serve(_ connection: Connection, request: UnsafeRawBufferPointer, framer: RequestFramer, on loop: EventLoop) -> PollEnd? {
        var rebuilt: [UInt8] = []
        if framer.bodyTooLarge {
            // The body was dropped as it came: libfcgi gets the params and an empty body.
            let id = framer.requestId
            rebuilt = Array(request[0..<framer.paramsEnd]) + [1, RequestFramer.stdin, UInt8(id >> 8), UInt8(id & 0xFF), 0, 0, 0, 0]
        }
        connection.busy.store(true, ordering: .relaxed)
        let token = loop.enterHandler(fd: connection.fd)
        let started = ContinuousClock.now
        let outcome = rebuilt.isEmpty
            ? exchange.serve(request, fd: connection.fd, bodyTooLarge: false, maxBodyBytes: configuration.maxBodyBytes, responder: context.responder)
            : rebuilt.withUnsafeBytes {
                exchange.serve($0, fd: connection.fd, bodyTooLarge: true, maxBodyBytes: configuration.maxBodyBytes, responder: context.responder)
            }
        let owner = loop.leaveHandler(token)
        let now = Clock.milliseconds()
        connection.served += 1
        guard let outcome else {
            context.refusals.note(.protocolViolation, detail: "libfcgi rejected a request the framer passed")
            return finish(connection, keep: false, events: nil, owner: owner, on: loop)
        }
        logRequest(outcome, elapsed: ContinuousClock.now - started)
        let keep = !outcome.closes && (!context.isStopping || context.isHandingOver)
        let output = outcome.output
        var written = 0
        while written < output.count {
            let count = write(connection.fd, output.baseAddress! + written, output.count - written)
            if count > 0 {
                written += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        if output.count > StdoutRecords.bufferedBodyLimit { FeedExchange.trimOutput() }
        if written == output.count {
            connection.phase = .idle
            connection.deadline = now + UInt64(configuration.idleTimeoutMilliseconds)
            return finish(connection, keep: keep, events: nil, owner: owner, on: loop)
        }
        guard errno == EAGAIN else { return finish(connection, keep: false, events: nil, owner: owner, on: loop) }
        connection.pending = Array(UnsafeRawBufferPointer(rebasing: output[written...]))
        connection.pendingOffset = 0
        connection.closeAfterWrite = !keep
        connection.phase = .writing
        connection.deadline = now + UInt64(configuration.writeTimeoutMilliseconds)
        return finish(connection, keep: true, events: EventLoop.writeEvents, owner: owner, on: loop)
    }

    /// After a request: keep (watching `events`, or as before) or close; gives the connection back if detached.
    private func finish(_ connection: Connection, keep: Bool, events: UInt32?, owner: Bool, on loop: EventLoop) -> PollEnd? {
        if owner {
            connection.busy.store(false, ordering: .relaxed)
            if !keep {
                closeConnection(connection, on: loop)
            } else if let events {
                loop.watch(connection, events: events)
            }
            return nil
        }
        // Another thread polls the loop now and closes what it is handed shut.
        if !keep { shutdown(connection.fd, Int32(SHUT_RDWR)) }
        loop.giveBack(connection, events: events ?? EventLoop.readEvents)
        return .detached
    }

    private func writePending(_ connection: Connection, on loop: EventLoop, now: UInt64) {
        let remaining = connection.pending.count - connection.pendingOffset
        let count = connection.pending.withUnsafeBytes { write(connection.fd, $0.baseAddress! + connection.pendingOffset, remaining) }
        if count < 0 {
            if errno != EAGAIN && errno != EINTR { closeConnection(connection, on: loop) }
            return
        }
        connection.pendingOffset += count
        guard connection.pendingOffset == connection.pending.count else { return }
        connection.pending = []
        connection.pendingOffset = 0
        if connection.closeAfterWrite || (loop.draining && !context.isHandingOver) {
            closeConnection(connection, on: loop)
            return
        }
        connection.phase = .idle
        connection.deadline = now + UInt64(configuration.idleTimeoutMilliseconds)
        loop.watch(connection, events: EventLoop.readEvents)
    }

    func closeConnection(_ connection: Connection, on loop: EventLoop) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        close(connection.fd)
        loop.remove(connection)
        context.connectionCount.subtract(1, ordering: .relaxed)
    }

    // MARK: - Deadlines and draining

    private func sweep(_ loop: EventLoop, now: UInt64) {
        loop.nextSweep = now + UInt64(configuration.sweepIntervalMilliseconds)
        if loop.acceptPausedUntil != 0 && now >= loop.acceptPausedUntil && !loop.draining {
            loop.acceptPausedUntil = 0
            try? loop.watch(context.listenFd, marker: .listener, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        }
        for connection in loop.connections.reversed() where !connection.busy.load(ordering: .acquiring) {
            if loop.draining && drain(connection, on: loop) { continue }
            guard connection.deadline != 0, connection.deadline <= now else { continue }
            switch connection.phase {
            case .reading:
                context.refusals.note(.readTimeout, detail: "no complete request within \(configuration.readTimeoutMilliseconds) ms")
            case .writing:
                context.refusals.note(.writeTimeout, detail: "the peer did not take the answer within \(configuration.writeTimeoutMilliseconds) ms")
            case .idle where connection.served == 0:
                context.refusals.note(.readTimeout, detail: "nothing sent within \(configuration.readTimeoutMilliseconds) ms")
            case .idle:
                break  // kept open by the web server and unused for idle_timeout_ms: normal
            }
            closeConnection(connection, on: loop)
        }
        loop.closedInBatch.removeAll(keepingCapacity: true)
    }

    /// While draining: closes (or hands over) a connection that has nothing left to finish; true if it is gone.
    private func drain(_ connection: Connection, on loop: EventLoop) -> Bool {
        guard context.isHandingOver else {
            guard connection.phase != .writing else { return false }
            closeConnection(connection, on: loop)
            return true
        }
        // A request on its way is finished here first; its connection goes over once idle.
        guard connection.phase == .idle, connection.input.isEmpty else { return false }
        if lsd_send_fd(context.successorChannel.load(ordering: .relaxed), connection.fd) == 0 {
            loop.unwatch(connection.fd)
            closeConnection(connection, on: loop)
            return true
        }
        guard errno != EAGAIN else { return false }  // the channel is full: next sweep
        context.logger.error("cannot hand a connection to the successor; closing it", metadata: ["error": "\(String(cString: strerror(errno)))"])
        closeConnection(connection, on: loop)
        return true
    }

    /// Upgrade, successor side: adopts the connections the predecessor sends.
    private func receiveHandedOver(on loop: EventLoop, now: UInt64) {
        guard let channel = context.predecessorChannel else { return }
        let fd = lsd_receive_fd(channel)
        if fd == -2 {
            loop.unwatch(channel)  // the predecessor is done
            return
        }
        guard fd >= 0 else { return }
        context.connectionCount.add(1, ordering: .relaxed)
        guard let connection = adopt(fd, on: loop, now: now) else { return }
        // A kept connection of the web server, between requests.
        connection.served = 1
        connection.deadline = now + UInt64(configuration.idleTimeoutMilliseconds)
    }

    /// Shutdown reached this loop: stop waking on it and close what is not mid-answer.
    private func startDraining(_ loop: EventLoop) {
        guard !loop.draining else { return }
        loop.draining = true
        loop.unwatch(context.wakeFd)
    }

    // MARK: - Log

    /// One line per request: method, path, status, time, the client's address, the request id,
    /// and for a 4xx/5xx answer the reason (the error's code and message).
    private func logRequest(_ outcome: FeedExchange.Outcome, elapsed: Duration) {
        var metadata: Logger.Metadata = [
            "method": "\(outcome.request.method)", "path": "\(outcome.request.path)", "status": "\(outcome.response.status)",
            "ms": "\((elapsed.seconds * 1e5).rounded() / 100)", "request_id": "\(outcome.requestId)",
            "client": "\(outcome.request.params["REMOTE_ADDR"] ?? "-")",
        ]
        if outcome.response.status >= 400 { metadata["reason"] = "\(outcome.response.logReason ?? "-")" }
        context.logger.info("request", metadata: metadata)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
