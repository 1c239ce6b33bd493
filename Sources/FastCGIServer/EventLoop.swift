import CFastCGI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One epoll set and the connections in it, served by one poller thread at a time.
///
/// A poller runs each request inline: no hand-over between threads, so a steady
/// stream of requests costs a read, a write and a share of an `epoll_wait` each. When
/// a request runs long (a slow backend call), the `LoopSupervisor` takes the loop away
/// from that thread and gives it to a spare worker, as Go's runtime does with a thread
/// blocked in a system call: the slow request keeps its thread, the loop's other
/// connections go on. The handshake is `handlerState` (one atomic word) plus `handoff`,
/// a lock taken only on that slow path.
final class EventLoop: @unchecked Sendable {
    /// `epoll_event.data.u64` markers; everything else is a `Connection` pointer.
    enum Marker: UInt64 {
        case listener = 1
        case wake = 2
        case handover = 3
    }

    let index: Int
    let epollFd: Int32

    // Owned by the current poller.
    var connections: [Connection] = []
    /// Connections closed during the current batch: kept alive until the batch ends,
    /// since a later event of the same batch may still point at them.
    var closedInBatch: [Connection] = []
    var nextSweep: UInt64 = 0
    var acceptPausedUntil: UInt64 = 0
    var draining = false

    /// `sequence << 2 | detached << 1 | inHandler`.
    private let handlerState = Atomic<UInt64>(0)
    private let handlerFd = Atomic<Int32>(-1)
    private let handoff = Mutex<Void>(())
    private static let inHandler: UInt64 = 1
    private static let detached: UInt64 = 2

    init(index: Int) throws {
        self.index = index
        epollFd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFd >= 0 else { throw FastCGIServerError("cannot create an epoll set", errno: errno) }
    }

    deinit { close(epollFd) }

    // MARK: - Connections (poller only)

    func add(_ connection: Connection) -> Bool {
        connection.slot = connections.count
        connections.append(connection)
        guard watch(connection, events: EventLoop.readEvents, operation: EPOLL_CTL_ADD) else {
            remove(connection)
            return false
        }
        return true
    }

    func remove(_ connection: Connection) {
        let last = connections.removeLast()
        if last !== connection {
            connections[connection.slot] = last
            last.slot = connection.slot
        }
        closedInBatch.append(connection)
    }

    static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    static let writeEvents = EPOLLOUT.rawValue | EPOLLRDHUP.rawValue

    @discardableResult
    func watch(_ connection: Connection, events: UInt32, operation: Int32 = EPOLL_CTL_MOD) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.ptr = Unmanaged.passUnretained(connection).toOpaque()
        return epoll_ctl(epollFd, operation, connection.fd, &event) == 0
    }

    func watch(_ fd: Int32, marker: Marker, events: UInt32) throws {
        var event = epoll_event()
        event.events = events
        event.data.u64 = marker.rawValue
        guard epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &event) == 0 else { throw FastCGIServerError("epoll_ctl failed", errno: errno) }
    }

    func unwatch(_ fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, &event)
    }

    // MARK: - Takeover

    /// The poller is about to run a request of `fd`; returns the token for `leaveHandler`.
    func enterHandler(fd: Int32) -> UInt64 {
        handlerFd.store(fd, ordering: .relaxed)
        let token = ((handlerState.load(ordering: .relaxed) >> 2) + 1) << 2 | EventLoop.inHandler
        handlerState.store(token, ordering: .releasing)
        return token
    }

    /// True if the thread still polls this loop; false if the supervisor gave it to another.
    func leaveHandler(_ token: UInt64) -> Bool {
        handlerState.compareExchange(expected: token, desired: token & ~EventLoop.inHandler, ordering: .acquiringAndReleasing).exchanged
    }

    /// What the supervisor sees: a token while a request runs, nil otherwise.
    var runningHandler: UInt64? {
        let state = handlerState.load(ordering: .acquiring)
        return state & (EventLoop.inHandler | EventLoop.detached) == EventLoop.inHandler ? state : nil
    }

    /// Supervisor: takes the loop from the thread running request `token` (still running).
    /// The request's connection leaves the epoll set until that thread gives it back.
    func detach(_ token: UInt64) -> Bool {
        handoff.withLock { _ in
            guard handlerState.compareExchange(expected: token, desired: token | EventLoop.detached, ordering: .acquiringAndReleasing).exchanged else {
                return false
            }
            unwatch(handlerFd.load(ordering: .relaxed))
            return true
        }
    }

    /// The detached thread gives its connection back to the loop, watched for `events`.
    func giveBack(_ connection: Connection, events: UInt32) {
        handoff.withLock { _ in
            watch(connection, events: events, operation: EPOLL_CTL_ADD)
            connection.busy.store(false, ordering: .releasing)
        }
    }
}
