import CFastCGI
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A FastCGI responder server: libfcgi behind a bounded, non-blocking front door.
///
/// The front door (`Worker`, `RequestFramer`) reads connections without blocking,
/// checks every record and length before libfcgi sees it, and closes connections that
/// do not deliver a whole request within `readTimeoutMilliseconds` or do not take their
/// answer within `writeTimeoutMilliseconds`; a silent or half-sent connection costs a
/// descriptor, never a thread. libfcgi then parses each complete request and writes its
/// answer in memory (`FeedExchange`).
///
/// Threads: `loops` event loops, each polled by one worker that runs requests inline;
/// the other workers are spares that take a loop over when its poller is stuck in a
/// slow request (`LoopSupervisor`). Threads are plain threads, never the Swift
/// concurrency pool: request handlers block (see docs/FINDINGS.md).
public final class FastCGIServer: Sendable {
    private let context: ServerContext
    private let listener: ListeningSocket
    private let finished = DispatchGroup()
    private let stopRequested = DispatchSemaphore(value: 0)

    /// Opens the listener and the event loops; `run()` starts serving.
    public init(configuration: FastCGIServerConfiguration, responder: any FastCGIResponder, logger: Logger) throws {
        guard FCGX_Init() == 0 else { throw FastCGIServerError("libfcgi failed to initialise") }
        guard FeedExchange.selfCheck() else {
            throw FastCGIServerError("libfcgi does not read through livestreamd's feed (was it linked with -Bsymbolic?); see Sources/CFastCGIFeed")
        }
        FastCGIServer.raiseDescriptorLimit(to: configuration.maxConnections + 256)
        listener = try ListeningSocket.open(configuration.listener, backlog: configuration.backlog)
        do {
            _ = fcntl(listener.fd, F_SETFL, fcntl(listener.fd, F_GETFL) | O_NONBLOCK)
            let wakeFd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
            guard wakeFd >= 0 else { throw FastCGIServerError("cannot create an eventfd", errno: errno) }
            let loops = try (0..<configuration.loops).map { try EventLoop(index: $0) }
            for loop in loops {
                // The listener wakes one loop per connection; the shutdown event stays readable and wakes them all.
                try loop.watch(listener.fd, marker: .listener, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
                try loop.watch(wakeFd, marker: .wake, events: EPOLLIN.rawValue)
            }
            if let channel = configuration.predecessorChannel {
                _ = fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) | O_NONBLOCK)
                _ = fcntl(channel, F_SETFD, FD_CLOEXEC)
                for loop in loops { try loop.watch(channel, marker: .handover, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue) }
            }
            context = ServerContext(
                configuration: configuration, responder: responder, logger: logger, loops: loops, listenFd: listener.fd, wakeFd: wakeFd,
                predecessorChannel: configuration.predecessorChannel)
        } catch {
            listener.unlinkIfOurs()
            close(listener.fd)
            throw error
        }
    }

    /// Where it listens, for the log.
    public var listenerDescription: String { listener.description }

    /// True once `shutdown()` or `handOver(to:)` was called.
    public var isStopping: Bool { context.isStopping }

    /// The listening socket (for handing it to a successor process).
    public var listenerFd: Int32 { listener.fd }

    /// Serves until `shutdown()`, then waits for in-flight requests (at most `drainTimeout`).
    /// - Returns: true if every worker finished in time.
    /// - Parameter ready: called once every thread serves (e.g. to tell a supervisor).
    @discardableResult
    public func run(drainTimeout: Duration = .seconds(4), ready: @Sendable () -> Void = {}) -> Bool {
        let configuration = context.configuration
        for index in 0..<configuration.threads {
            let loop = index < context.loops.count ? context.loops[index] : nil
            start("fcgi-worker-\(index)") { [context] in
                Worker(context: context).run(startingWith: loop)
            }
        }
        let supervisor = LoopSupervisor(context: context)
        start("fcgi-supervisor") { supervisor.run() }
        context.logger.info(
            "listening", metadata: ["pid": "\(getpid())", "workers": "\(configuration.workers)", "loops": "\(configuration.loops)", "socket": "\(listener.description)"])
        ready()
        if let channel = context.predecessorChannel {
            // Tells the predecessor this process serves: it stops accepting and sends its connections.
            var ready: UInt8 = 0x52
            _ = send(channel, &ready, 1, Int32(MSG_NOSIGNAL))
        }
        stopRequested.wait()
        // Handing over waits for slow requests to finish: their connections go to the successor after.
        let limit = context.isHandingOver ? max(drainTimeout, .seconds(60)) : drainTimeout
        return finished.wait(timeout: .now() + limit.seconds) == .success
    }

    /// Stops accepting, closes idle connections and lets in-flight requests finish. Safe from any thread.
    ///
    /// The listening socket goes at once (path unlinked, fd closed), so the web server
    /// gets an immediate refusal instead of queueing new requests behind the drain.
    public func shutdown() {
        guard !context.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in context.loops { loop.unwatch(listener.fd) }
        listener.unlinkIfOurs()
        close(listener.fd)
        var one: UInt64 = 1
        _ = Glibc.write(context.wakeFd, &one, 8)
        context.pool.stop()
        stopRequested.signal()
    }

    /// Upgrade: stops accepting and hands every connection, once idle, to the successor
    /// process on `channel`, which already accepts on the same listening socket; then
    /// `run()` returns. The socket file stays: it is the successor's now.
    public func handOver(to channel: Int32) {
        guard !context.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        context.successorChannel.store(channel, ordering: .relaxed)
        for loop in context.loops { loop.unwatch(listener.fd) }
        close(listener.fd)
        var one: UInt64 = 1
        _ = Glibc.write(context.wakeFd, &one, 8)
        context.pool.stop()
        stopRequested.signal()
    }

    private func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Room for `needed` descriptors, within the hard limit.
    private static func raiseDescriptorLimit(to needed: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return }
        limit.rlim_cur = min(rlim_t(needed), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
