#if canImport(Glibc)
import Glibc
#endif

/// How the FastCGI server listens, how much it takes on and how long it waits.
public struct FastCGIServerConfiguration: Sendable {
    /// Where requests come from.
    public enum Listener: Sendable, Equatable {
        /// A unix socket the server creates. A stale socket file is replaced; a socket
        /// another process still serves, or any other file, is an error.
        case unixSocket(path: String, mode: UInt32)
        /// A listening socket inherited as `fd` (0 from spawn-fcgi, 3 from systemd).
        case inherited(fd: Int32)
        /// The listening socket of a predecessor process (an upgrade), as `fd`; with
        /// `ownsPath`, its socket file is now this process's to remove at exit.
        case handedOver(fd: Int32, ownsPath: Bool)

        /// The path of the unix socket this listener is or was given (nil: not a unix socket bound to a path).
        public var unixPath: String? {
            switch self {
            case .unixSocket(let path, _): path
            case .inherited(let fd), .handedOver(let fd, _): ListeningSocket.boundPath(fd)
            }
        }
    }

    public var listener: Listener
    /// Requests that may run at once: a slow one (a backend call of seconds) holds a thread,
    /// and up to `workers` of them never hold up the other connections.
    public var workers: Int
    /// Event loops, one poller thread each; default one per core. The server runs
    /// `loops + workers` threads: pollers, and spares that take over a loop whose poller
    /// is held by a slow request.
    public var loops: Int
    /// Largest body read; larger ones get the responder's 413 (and are not kept in memory).
    public var maxBodyBytes: Int
    /// Largest params (headers and CGI variables) of one request; beyond it the connection is closed.
    public var maxParamsBytes: Int
    /// Time from a connection's first byte of a request (or its opening) to the whole request.
    public var readTimeoutMilliseconds: Int
    /// Time the peer gets to take an answer.
    public var writeTimeoutMilliseconds: Int
    /// Time a kept connection may sit unused (keep above nginx's upstream `keepalive_timeout`).
    public var idleTimeoutMilliseconds: Int
    /// Connections open at once; more are accepted and closed at once.
    public var maxConnections: Int
    /// Listen backlog for a socket the server creates.
    public var backlog: Int32
    /// Upgrade: the channel on which a predecessor hands over its connections (see `FastCGIServer.handOver(to:)`).
    public var predecessorChannel: Int32?
    /// Run by workers as they start and before a poller blocks (livestreamd batches its log lines).
    public var hooks: WorkerHooks?

    public init(
        listener: Listener, workers: Int = 16, loops: Int? = nil, maxBodyBytes: Int = 1 << 20, maxParamsBytes: Int = 65536,
        readTimeoutMilliseconds: Int = 5000, writeTimeoutMilliseconds: Int = 10000, idleTimeoutMilliseconds: Int = 90000,
        maxConnections: Int = 4096, backlog: Int32 = 1024, predecessorChannel: Int32? = nil, hooks: WorkerHooks? = nil
    ) {
        self.listener = listener
        self.workers = max(1, workers)
        self.loops = max(1, loops ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        self.maxBodyBytes = maxBodyBytes
        self.maxParamsBytes = maxParamsBytes
        self.readTimeoutMilliseconds = readTimeoutMilliseconds
        self.writeTimeoutMilliseconds = writeTimeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxConnections = maxConnections
        self.backlog = backlog
        self.predecessorChannel = predecessorChannel
        self.hooks = hooks
    }

    /// Every thread of the server: the pollers and the spares.
    var threads: Int { loops + workers }

    /// How often deadlines are checked: a quarter of the shortest, at most every 250 ms.
    var sweepIntervalMilliseconds: Int {
        max(10, min(250, min(readTimeoutMilliseconds, writeTimeoutMilliseconds) / 4))
    }
}

/// Work a worker thread does when it starts, and before it blocks when there is any.
public struct WorkerHooks: Sendable {
    public let started: @Sendable () -> Void
    public let hasDeferredWork: @Sendable () -> Bool
    public let beforeWaiting: @Sendable () -> Void

    public init(started: @escaping @Sendable () -> Void, hasDeferredWork: @escaping @Sendable () -> Bool, beforeWaiting: @escaping @Sendable () -> Void) {
        self.started = started
        self.hasDeferredWork = hasDeferredWork
        self.beforeWaiting = beforeWaiting
    }
}

/// The server could not start.
public struct FastCGIServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    init(_ message: String, errno code: Int32? = nil) {
        self.message = code.map { message + ": " + String(cString: strerror($0)) } ?? message
    }
}
