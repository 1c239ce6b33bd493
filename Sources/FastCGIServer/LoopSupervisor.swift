#if canImport(Glibc)
import Glibc
#endif

/// Watches the loops and moves a loop away from a thread stuck in a slow request.
///
/// Every `tick` it looks at each loop's running request; one that was already running
/// at the previous tick has taken at least a tick, so the loop goes to a spare worker
/// and the slow request finishes on its own thread. No request waits more than about
/// two ticks behind a slow one, as long as a spare is free.
final class LoopSupervisor: Sendable {
    private let context: ServerContext
    private let tickMilliseconds: Int

    init(context: ServerContext, tickMilliseconds: Int = 10) {
        self.context = context
        self.tickMilliseconds = tickMilliseconds
    }

    /// Runs until the server stops (call on its own thread).
    func run() {
        var seen = [UInt64?](repeating: nil, count: context.loops.count)
        var pause = timespec(tv_sec: 0, tv_nsec: tickMilliseconds * 1_000_000)
        while !context.isStopping {
            nanosleep(&pause, nil)
            for (index, loop) in context.loops.enumerated() {
                let running = loop.runningHandler
                defer { seen[index] = running }
                guard let running, running == seen[index] else { continue }
                guard context.pool.reserveSpare() else {
                    context.refusals.note(.allWorkersBusy, detail: "\(context.configuration.workers) slow requests at once; raise server.workers for slow backends")
                    continue
                }
                if loop.detach(running) {
                    context.pool.hand(loop)
                } else {
                    context.pool.releaseSpare()
                }
            }
        }
    }
}
