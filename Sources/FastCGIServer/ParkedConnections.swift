import Synchronization

/// Kept connections resting in the epoll set, one atomic flag per descriptor.
///
/// Workers park and claim connections on every request, so a shared lock here
/// showed up as futex contention under load; a flag per descriptor needs none.
/// Whoever flips a flag from parked to free owns the connection.
final class ParkedConnections: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Atomic<Bool>>
    private let capacity: Int
    private let drainingFlag = Atomic<Bool>(false)

    /// - Parameter capacity: one more than the highest descriptor that may be parked.
    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        for index in 0..<capacity { (slots + index).initialize(to: Atomic(false)) }
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    /// From now on nothing is parked.
    func startDraining() { drainingFlag.store(true, ordering: .releasing) }

    /// Marks `fd` parked; false when draining or out of range (the caller closes it).
    func park(_ fd: Int32) -> Bool {
        guard fd >= 0, Int(fd) < capacity, !isDraining else { return false }
        slots[Int(fd)].store(true, ordering: .releasing)
        return true
    }

    /// Takes `fd` out of the parked set; false if somebody else already took it.
    func claim(_ fd: Int32) -> Bool {
        guard fd >= 0, Int(fd) < capacity else { return false }
        return slots[Int(fd)].exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Claims every parked connection (for closing at shutdown).
    func claimAll() -> [Int32] {
        (0..<capacity).compactMap { index in
            slots[index].load(ordering: .relaxed) && claim(Int32(index)) ? Int32(index) : nil
        }
    }
}
