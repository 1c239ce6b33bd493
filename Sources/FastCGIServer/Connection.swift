import Synchronization

/// One connection from the web server, owned by the event loop that accepted it.
///
/// Only the loop's current poller touches a connection, except while `busy`: then the
/// thread running its request owns it (see `EventLoop` on takeovers).
final class Connection {
    /// What the connection is waiting for, which decides its deadline.
    enum Phase {
        /// Between requests (kept open by the web server), or not yet sent anything.
        case idle
        /// Part of a request has arrived.
        case reading
        /// Part of an answer is waiting for the peer to read.
        case writing
    }

    let fd: Int32
    /// Its index in the owning loop's `connections`.
    var slot = 0
    var phase = Phase.idle
    /// Monotonic milliseconds after which the connection is closed (0: none).
    var deadline: UInt64 = 0
    var framer: RequestFramer
    /// A request that arrived in pieces.
    var input = InputBuffer()
    /// Answer bytes the peer has not taken yet.
    var pending: [UInt8] = []
    var pendingOffset = 0
    /// Close once `pending` is written (the web server did not ask to keep it).
    var closeAfterWrite = false
    /// Requests answered so far.
    var served = 0
    var isClosed = false
    /// Set while a worker runs this connection's request.
    let busy = Atomic<Bool>(false)

    init(fd: Int32, framer: RequestFramer) {
        self.fd = fd
        self.framer = framer
    }
}
