import Logging
import Synchronization

/// Logs why connections were refused or cut off, at most a few lines per second.
///
/// A peer that floods the socket must not flood the log as well: each reason is logged
/// when it happens, at most once per `interval`, with the count of the ones not logged.
final class RefusalLog: Sendable {
    enum Reason: String, CaseIterable {
        case protocolViolation = "protocol violation"
        case readTimeout = "read timeout"
        case writeTimeout = "write timeout"
        case closedMidRequest = "closed mid-request"
        case connectionLimit = "connection limit"
        case outOfDescriptors = "out of file descriptors"
        case allWorkersBusy = "all workers busy"
    }

    private struct Entry {
        var lastLogged: UInt64 = 0
        var suppressed = 0
    }

    private let logger: Logger
    private let interval: UInt64
    private let entries = Mutex([Reason: Entry]())

    init(logger: Logger, intervalMilliseconds: UInt64 = 1000) {
        self.logger = logger
        interval = intervalMilliseconds
    }

    func note(_ reason: Reason, detail: String) {
        let now = Clock.milliseconds()
        let suppressed: Int? = entries.withLock { entries in
            var entry = entries[reason, default: Entry()]
            defer { entries[reason] = entry }
            guard entry.lastLogged == 0 || now >= entry.lastLogged + interval else {
                entry.suppressed += 1
                return nil
            }
            let count = entry.suppressed
            entry.lastLogged = now
            entry.suppressed = 0
            return count
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = ["reason": "\(reason.rawValue)", "detail": "\(detail)"]
        if suppressed > 0 { metadata["not_logged_since_last"] = "\(suppressed)" }
        logger.warning("connection refused", metadata: metadata)
    }
}
