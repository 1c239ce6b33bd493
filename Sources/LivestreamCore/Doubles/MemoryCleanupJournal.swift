import Synchronization

/// The reference `CleanupJournal`: cleanups in memory (lost with the process).
public final class MemoryCleanupJournal: CleanupJournal {
    private let cleanups = Mutex<[PendingCleanup]>([])

    public init() {}

    public func save(_ cleanup: PendingCleanup) throws {
        cleanups.withLock { all in
            if let index = all.firstIndex(where: { $0.id == cleanup.id }) { all[index] = cleanup } else { all.append(cleanup) }
        }
    }

    public func pending() throws -> [PendingCleanup] {
        cleanups.withLock { $0 }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func finish(id: String) throws {
        cleanups.withLock { $0.removeAll { $0.id == id } }
    }
}
