import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What every worker shares: settings, the responder, counters and the loops.
final class ServerContext: Sendable {
    let configuration: FastCGIServerConfiguration
    let responder: any FastCGIResponder
    let logger: Logger
    let refusals: RefusalLog
    let loops: [EventLoop]
    let pool: WorkerPool
    let listenFd: Int32
    let wakeFd: Int32
    let connectionCount = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The channel to a successor process while connections are handed over to it (else -1).
    let successorChannel = Atomic<Int32>(-1)
    /// The channel from the predecessor that handed this process its connections.
    let predecessorChannel: Int32?

    init(configuration: FastCGIServerConfiguration, responder: any FastCGIResponder, logger: Logger, loops: [EventLoop], listenFd: Int32, wakeFd: Int32, predecessorChannel: Int32?) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        refusals = RefusalLog(logger: logger)
        self.loops = loops
        pool = WorkerPool(threads: configuration.threads)
        self.listenFd = listenFd
        self.wakeFd = wakeFd
        self.predecessorChannel = predecessorChannel
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// While stopping: idle connections go to a successor instead of being closed.
    var isHandingOver: Bool { successorChannel.load(ordering: .relaxed) >= 0 }

    func newFramer() -> RequestFramer {
        RequestFramer(maxParamsBytes: configuration.maxParamsBytes, maxBodyBytes: configuration.maxBodyBytes)
    }
}

/// Monotonic milliseconds from the coarse clock (a vDSO read, no system call).
enum Clock {
    static func milliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
