import Foundation
import LivestreamCore

/// Runs background `MaintenanceWork` (a plugin's, the webhook delivery) on a thread of its own until the service stops.
///
/// A round in progress is allowed to finish (each AWS call is bounded by its
/// timeouts); `stop` ends the pause between rounds at once.
final class MaintenanceLoop: Sendable {
    private let work: any MaintenanceWork
    private let finished = DispatchSemaphore(value: 0)
    private let name: String

    init(work: any MaintenanceWork, name: String = "maintenance") {
        self.work = work
        self.name = name
    }

    func start() {
        let thread = Thread { [work, finished] in
            repeat {} while work.wakeup.wait(work.runRound())
            finished.signal()
        }
        thread.name = name
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
