import FastCGIServer
import Foundation
import Logging

/// Replacing the running binary without losing a request (SIGUSR2).
///
/// The service starts the executable at its path (the new binary, once installed
/// there) as its successor, handing it the listening socket as fd 3 and one end of a
/// channel as fd 4. The successor loads its configuration, starts serving on the same
/// socket and says so on the channel; then this process stops accepting and sends
/// each of its connections over the channel as soon as it is idle (in-flight requests
/// finish here first) and exits. nginx's kept connections are never closed, so no
/// request meets a closed connection. If the successor fails to start, this process
/// logs why and goes on serving.
struct Upgrade: Sendable {
    /// `LISTEN_FD,CHANNEL_FD,owned|inherited` in the successor's environment.
    static let environmentKey = "LIVESTREAMD_HANDOVER"
    private static let listenerFd: Int32 = 3
    private static let channelFd: Int32 = 4

    let executable: String
    let arguments: [String]
    /// Whether the socket file is the service's own (created from server.socket).
    let ownsSocket: Bool
    let logger: Logger

    /// The executable of this process, read at start-up (later the path may hold a new binary).
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// For the successor: the inherited listener and channel, if this process is one.
    static func inherited(environment: [String: String]) -> (listener: FastCGIServerConfiguration.Listener, channel: Int32)? {
        guard let value = environment[environmentKey] else { return nil }
        let parts = value.split(separator: ",")
        guard parts.count == 3, let listener = Int32(parts[0]), let channel = Int32(parts[1]) else { return nil }
        return (.handedOver(fd: listener, ownsPath: parts[2] == "owned"), channel)
    }

    /// Starts the successor and, once it serves, hands `server` over to it.
    func begin(_ server: FastCGIServer) {
        guard !server.isStopping else {
            logger.warning("upgrade ignored: the service is already stopping or handing over")
            return
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            logger.error("upgrade failed: cannot create the hand-over channel", metadata: ["error": "\(String(cString: strerror(errno)))"])
            return
        }
        let (channel, successorEnd) = (pair[0], pair[1])
        defer { close(successorEnd) }
        guard let pid = spawn(listener: server.listenerFd, channel: successorEnd) else {
            close(channel)
            return
        }
        logger.notice("upgrade: started the successor; waiting until it serves", metadata: ["pid": "\(pid)", "executable": "\(executable)"])
        close(successorEnd)
        guard waitUntilReady(channel, timeoutSeconds: 60) else {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(channel)
            logger.error("upgrade failed: the successor did not start serving (see its log lines above); this process goes on serving", metadata: ["pid": "\(pid)"])
            return
        }
        logger.notice("upgrade: the successor serves; handing over connections, then exiting", metadata: ["pid": "\(pid)"])
        server.handOver(to: channel)
    }

    private func spawn(listener: Int32, channel: Int32) -> pid_t? {
        // Copies above the target numbers, so placing one cannot overwrite the other.
        let listenerCopy = fcntl(listener, F_DUPFD_CLOEXEC, 10)
        let channelCopy = fcntl(channel, F_DUPFD_CLOEXEC, 10)
        defer {
            close(listenerCopy)
            close(channelCopy)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, listenerCopy, Upgrade.listenerFd)
        posix_spawn_file_actions_adddup2(&actions, channelCopy, Upgrade.channelFd)

        var environment = ProcessInfo.processInfo.environment
        environment[Upgrade.environmentKey] = "\(Upgrade.listenerFd),\(Upgrade.channelFd),\(ownsSocket ? "owned" : "inherited")"
        // systemd's socket-activation variables name this process; the successor finds its socket above.
        environment["LISTEN_FDS"] = nil
        environment["LISTEN_PID"] = nil
        environment["LISTEN_FDNAMES"] = nil
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            logger.error("upgrade failed: cannot start \(executable)", metadata: ["error": "\(String(cString: strerror(result)))"])
            return nil
        }
        return pid
    }

    /// Waits for the successor's one-byte "serving" message.
    private func waitUntilReady(_ channel: Int32, timeoutSeconds: Int32) -> Bool {
        var poller = pollfd(fd: channel, events: Int16(POLLIN), revents: 0)
        var remaining = timeoutSeconds * 1000
        while remaining > 0 {
            let started = Date()
            let ready = poll(&poller, 1, remaining)
            if ready < 0 && errno == EINTR {
                remaining -= Int32(Date().timeIntervalSince(started) * 1000)
                continue
            }
            guard ready == 1 else { return false }
            var byte: UInt8 = 0
            return recv(channel, &byte, 1, 0) == 1 && byte == 0x52
        }
        return false
    }
}
