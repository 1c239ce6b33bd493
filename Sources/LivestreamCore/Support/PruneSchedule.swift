import Synchronization

/// When an event journal drops what is past its retention: at most once per interval, by the
/// append that finds it due (no thread of its own; a failed prune waits for the next interval,
/// the events stay meanwhile).
public final class PruneSchedule: Sendable {
    private let lastMilliseconds = Mutex<Int64?>(nil)
    private let intervalMilliseconds: Int64

    public init(every interval: Duration = .seconds(3600)) {
        intervalMilliseconds = interval.components.seconds * 1000
    }

    /// Whether a prune is due at `now` (epoch milliseconds); the caller that gets true does it.
    public func claim(now: Int64) -> Bool {
        lastMilliseconds.withLock { last in
            if let last, now - last < intervalMilliseconds { return false }
            last = now
            return true
        }
    }
}
