import Dispatch
import Synchronization

/// Keeps only a few workers waiting in `epoll_wait`; the others rest until those are all busy.
///
/// epoll wakes its waiters first-in first-out, so with many idle threads every request
/// lands on the coldest thread: 32 workers served a fifth fewer requests than 4. With a
/// few waiters the hot threads stay hot, and a resting worker is woken as soon as the
/// last waiter takes a request, so a slow request still never holds up the others.
final class WaiterGate: Sendable {
    private let limit: Int
    private let waiting = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let resting = DispatchSemaphore(value: 0)
    private let workers: Int

    /// - Parameters:
    ///   - limit: most workers waiting in epoll at once.
    ///   - workers: all workers (to wake them at shutdown).
    init(limit: Int, workers: Int) {
        self.limit = max(1, limit)
        self.workers = workers
    }

    /// Call before `epoll_wait`; rests while enough others wait. False once stopping.
    func enter() -> Bool {
        while !stopping.load(ordering: .acquiring) {
            if waiting.add(1, ordering: .acquiringAndReleasing).newValue <= limit { return true }
            waiting.subtract(1, ordering: .acquiringAndReleasing)
            resting.wait()
            if stopping.load(ordering: .acquiring) { return false }
            waiting.add(1, ordering: .acquiringAndReleasing)
            return true
        }
        return false
    }

    /// Call after `epoll_wait` returns; wakes a resting worker if nobody is left waiting.
    func leave() {
        if waiting.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { resting.signal() }
    }

    /// Wakes every resting worker for shutdown.
    func stop() {
        stopping.store(true, ordering: .releasing)
        for _ in 0..<workers { resting.signal() }
    }
}
