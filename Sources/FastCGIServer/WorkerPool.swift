import Dispatch
import Synchronization

/// Spare workers, resting until the supervisor gives one a loop whose poller is held by a slow request.
///
/// Only the slow path goes through here; a steady stream of requests never does.
final class WorkerPool: Sendable {
    private struct State {
        var orphans: [EventLoop] = []
        var idleSpares = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let threads: Int

    init(threads: Int) {
        self.threads = threads
    }

    /// A spare's wait: the next loop to poll, or nil at shutdown.
    func awaitLoop() -> EventLoop? {
        let immediate: EventLoop?? = state.withLock { state in
            if let loop = state.orphans.popLast() { return .some(loop) }
            if state.stopped { return .some(nil) }
            state.idleSpares += 1
            return .none
        }
        if let immediate { return immediate }
        while true {
            wakeup.wait()
            let next: EventLoop?? = state.withLock { state in
                if let loop = state.orphans.popLast() { return .some(loop) }
                return state.stopped ? .some(nil) : .none
            }
            if let next { return next }
        }
    }

    /// Reserves a resting spare for a takeover; false if every worker is busy.
    func reserveSpare() -> Bool {
        state.withLock { state in
            guard state.idleSpares > 0, !state.stopped else { return false }
            state.idleSpares -= 1
            return true
        }
    }

    /// Gives back a reservation that was not used.
    func releaseSpare() {
        state.withLock { $0.idleSpares += 1 }
    }

    /// Hands `loop` to the reserved spare.
    func hand(_ loop: EventLoop) {
        state.withLock { $0.orphans.append(loop) }
        wakeup.signal()
    }

    /// Wakes every resting spare to exit.
    func stop() {
        state.withLock { $0.stopped = true }
        for _ in 0..<threads { wakeup.signal() }
    }
}
