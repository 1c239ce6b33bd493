import Foundation

/// systemd's readiness protocol (`sd_notify`): one datagram to `$NOTIFY_SOCKET`, if set.
///
/// `READY=1` and `MAINPID=` once serving: after an upgrade (SIGUSR2) the successor names
/// itself the main process, so a `Type=notify` unit with `NotifyAccess=all` follows it
/// instead of ending when the old process exits.
enum SystemdNotify {
    static func send(_ message: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard var path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) - 1 else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            // An abstract socket's name starts with a zero byte.
            raw.copyBytes(from: (abstract ? [0] : []) + bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 0))
        _ = Array(message.utf8).withUnsafeBytes { payload in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, payload.baseAddress, payload.count, 0, $0, length) }
            }
        }
    }
}
