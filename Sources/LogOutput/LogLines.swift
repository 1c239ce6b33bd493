import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where log lines go: standard error, at once or batched per thread.
///
/// A thread that calls `deferWrites()` keeps its info and debug lines until `flush()` or
/// until they fill a pipe's atomic write (4 KB), so a request thread writes its access
/// lines once per batch of requests, without a lock; notices, warnings and errors go out
/// at once (after the lines held before them), as does every line of other threads.
/// Every write holds whole lines and at most 4 KB, so lines from different threads never
/// interleave, even on a pipe or journald's stream.
public enum LogLines {
    private static let flushAt = 3072
    private static let levelIndex = Atomic<Int>(2)

    /// How lines look.
    public enum Format: String, Sendable, CaseIterable {
        /// `2026-11-29T10:18:45.123Z info livestreamd: key=value ... message`
        case text
        /// One JSON object per line: `time`, `level`, `logger`, `message` and the metadata.
        case json
    }

    private static let formatIndex = Atomic<Int>(0)
    private static let timestampsOn = Atomic<Bool>(true)

    /// The line format, for every logger of the process.
    public static var format: Format {
        get { Format.allCases[formatIndex.load(ordering: .relaxed)] }
        set { formatIndex.store(Format.allCases.firstIndex(of: newValue) ?? 0, ordering: .relaxed) }
    }

    /// Whether text lines start with a timestamp: not when journald (which stamps every line)
    /// reads standard error (`JOURNAL_STREAM`) and the log is not redirected to a file.
    public static var timestamps: Bool {
        get { timestampsOn.load(ordering: .relaxed) }
        set { timestampsOn.store(newValue, ordering: .relaxed) }
    }

    /// The least severe level written, for every logger of the process.
    public static var level: Logger.Level {
        get { Logger.Level.allCases[levelIndex.load(ordering: .relaxed)] }
        set { levelIndex.store(Logger.Level.allCases.firstIndex(of: newValue) ?? 2, ordering: .relaxed) }
    }

    /// Sends standard error (and so the log) to `path`, appending; again after a rotation.
    public static func redirect(to path: String) throws(LogFileError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LogFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard dup2(fd, 2) >= 0 else { throw LogFileError(path: path, reason: String(cString: strerror(errno))) }
    }
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ThreadLines>.fromOpaque(pointer).takeRetainedValue().flush()
        }
        return key
    }()

    /// From now on this thread's lines wait for `flush()` (or a full batch).
    public static func deferWrites() {
        guard pthread_getspecific(key) == nil else { return }
        pthread_setspecific(key, Unmanaged.passRetained(ThreadLines()).toOpaque())
    }

    /// Whether this thread holds lines not yet written.
    public static var hasPending: Bool {
        guard let pointer = pthread_getspecific(key) else { return false }
        return !Unmanaged<ThreadLines>.fromOpaque(pointer).takeUnretainedValue().bytes.isEmpty
    }

    /// Writes this thread's pending lines.
    public static func flush() {
        guard let pointer = pthread_getspecific(key) else { return }
        Unmanaged<ThreadLines>.fromOpaque(pointer).takeUnretainedValue().flush()
    }

    static func emit(_ line: String, urgent: Bool) {
        guard let pointer = pthread_getspecific(key) else {
            var bytes = Array(line.utf8)
            writeAll(&bytes)
            return
        }
        let lines = Unmanaged<ThreadLines>.fromOpaque(pointer).takeUnretainedValue()
        if lines.bytes.count + line.utf8.count > 4096 { lines.flush() }
        lines.bytes.append(contentsOf: line.utf8)
        if urgent || lines.bytes.count >= flushAt { lines.flush() }
    }

    static func writeAll(_ bytes: inout [UInt8]) {
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let count = write(2, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return }  // nowhere to log to
                offset += count
            }
        }
    }

    /// `2026-11-29T10:18:45.123Z`, from the coarse real-time clock.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}

/// One thread's deferred lines.
private final class ThreadLines {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(4096) }

    func flush() {
        guard !bytes.isEmpty else { return }
        LogLines.writeAll(&bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// The log file cannot be opened.
public struct LogFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open the log file \(path): \(reason)" }
}
