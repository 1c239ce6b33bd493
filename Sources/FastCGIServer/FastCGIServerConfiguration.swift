#if canImport(Glibc)
import Glibc
#endif

/// How the FastCGI server listens and how much it takes on.
public struct FastCGIServerConfiguration: Sendable {
    /// Where requests come from.
    public enum Listener: Sendable, Equatable {
        /// A unix socket the server creates (an existing socket file is replaced; any other file is an error).
        case unixSocket(path: String, mode: UInt32)
        /// The listening socket inherited as fd 0 (spawn-fcgi and similar).
        case inherited
    }

    public var listener: Listener
    /// Threads serving requests; a slow request holds one thread only.
    public var workers: Int
    /// Largest body read; larger ones get the responder's 413.
    public var maxBodyBytes: Int
    /// Listen backlog for a socket the server creates.
    public var backlog: Int32

    public init(listener: Listener, workers: Int = 16, maxBodyBytes: Int = 1 << 20, backlog: Int32 = 1024) {
        self.listener = listener
        self.workers = workers
        self.maxBodyBytes = maxBodyBytes
        self.backlog = backlog
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
