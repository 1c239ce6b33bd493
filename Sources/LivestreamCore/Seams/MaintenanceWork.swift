import Foundation

/// Work a plugin does in the background, round after round, for as long as the service runs.
///
/// The service runs every plugin's work on one thread of its own, so rounds of one
/// plugin never overlap. Several service processes may run the same work at once: it
/// must be idempotent.
public protocol MaintenanceWork: Sendable {
    /// Runs one round (finishing what it can; failures are logged and retried later).
    /// - Returns: how long to wait before the next round.
    func runRound() -> Duration

    /// Lets the plugin ask for a round before the pause ends (new pending work).
    var wakeup: MaintenanceWakeup { get }
}

/// The pause between maintenance rounds, which the plugin can cut short and the service can end.
public final class MaintenanceWakeup: @unchecked Sendable {
    // NSCondition guards both flags; every access holds it.
    private let condition = NSCondition()
    private var requested = false
    private var stopped = false

    public init() {}

    /// Asks for the next round now (cheap; called after journaling work or starting a transition).
    public func request() {
        condition.lock()
        requested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Ends every wait for good.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the pause is over, a round is requested or the service stops.
    /// - Returns: false once stopped.
    public func wait(_ pause: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(pause.inSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !requested && !stopped && condition.wait(until: deadline) {}
        requested = false
        return !stopped
    }
}
