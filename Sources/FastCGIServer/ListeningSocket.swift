#if canImport(Glibc)
import Glibc
#endif

/// The socket the web server connects to: created at a path, or inherited.
struct ListeningSocket {
    let fd: Int32
    /// Set when this process created the socket file: its path and identity.
    let created: (path: String, device: UInt64, inode: UInt64)?

    var description: String { created?.path ?? "inherited fd \(fd)" }

    static func open(_ listener: FastCGIServerConfiguration.Listener, backlog: Int32) throws -> ListeningSocket {
        switch listener {
        case .inherited(let fd):
            var accepting: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else {
                throw FastCGIServerError("fd \(fd) is not a listening socket: set server.socket or start the service with spawn-fcgi or systemd socket activation")
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            return ListeningSocket(fd: fd, created: nil)
        case .unixSocket(let path, let mode):
            return try create(path: path, mode: mode, backlog: backlog)
        case .handedOver(let fd, let ownsPath):
            let inherited = try open(.inherited(fd: fd), backlog: backlog)
            guard ownsPath, let path = boundPath(fd) else { return inherited }
            var status = stat()
            guard lstat(path, &status) == 0 else { return inherited }
            return ListeningSocket(fd: fd, created: (path, UInt64(status.st_dev), UInt64(status.st_ino)))
        }
    }

    /// The path a unix socket is bound to.
    static func boundPath(_ fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: &address.sun_path) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return path.isEmpty ? nil : path
    }

    /// Removes the socket file, but only if it is still the one this process created.
    func unlinkIfOurs() {
        guard let created else { return }
        var status = stat()
        guard lstat(created.path, &status) == 0, UInt64(status.st_dev) == created.device, UInt64(status.st_ino) == created.inode else { return }
        unlink(created.path)
    }

    private static func create(path: String, mode: UInt32, backlog: Int32) throws -> ListeningSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw FastCGIServerError("socket path \(path) is longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFSOCK else {
                throw FastCGIServerError("\(path) exists and is not a socket; refusing to replace it")
            }
            // A live socket belongs to a running process (another livestreamd, another service): never take it over.
            if isServed(&address) {
                throw FastCGIServerError("\(path) is in use: another process accepts connections on it; stop it first, or use another server.socket")
            }
            unlink(path)
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
        guard chmod(path, mode_t(mode)) == 0, listen(fd, backlog) == 0, lstat(path, &status) == 0 else {
            let code = errno
            close(fd)
            unlink(path)
            throw FastCGIServerError("cannot listen on \(path)", errno: code)
        }
        return ListeningSocket(fd: fd, created: (path, UInt64(status.st_dev), UInt64(status.st_ino)))
    }

    /// Whether a process accepts connections at `address` (a connect succeeds).
    private static func isServed(_ address: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // EAGAIN: the backlog is full, which means somebody listens.
        return result == 0 || errno == EAGAIN
    }
}
