import Foundation
import LivestreamCore

/// Runs a plugin's `MaintenanceWork` on a thread of its own until the service stops.
///
/// A round in progress is allowed to finish (each AWS call is bounded by its
/// timeouts); `stop` ends the pause between rounds at once.
final class MaintenanceLoop: Sendable {
    private let work: any MaintenanceWork
    private let finished = DispatchSemaphore(value: 0)

    init(work: any MaintenanceWork) {
        self.work = work
    }

    func start() {
        let thread = Thread { [work, finished] in
            repeat {} while work.wakeup.wait(work.runRound())
            finished.signal()
        }
        thread.name = "maintenance"
        thread.start()
    }

    /// Ends the loop and waits up to `timeout` for the current round to end.
    /// - Returns: whether it ended in time.
    @discardableResult
    func stop(timeout: Duration) -> Bool {
        work.wakeup.stop()
        return finished.wait(timeout: .now() + timeout.inSeconds) == .success
    }
}
