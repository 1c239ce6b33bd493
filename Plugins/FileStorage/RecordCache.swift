import LivestreamCore
import Synchronization

/// Decoded records by id, each valid while its file keeps the stamp it was read at.
///
/// Striped locks: every GET consults it, and one shared lock showed up as futex
/// contention across the worker threads.
final class RecordCache: Sendable {
    private static let stripes = 16
    private static let maxEntriesPerStripe = 4096
    private final class Stripe: Sendable {
        let entries = Mutex<[String: (stamp: FileStamp, record: StreamRecord)]>([:])
    }

    private let stripes: [Stripe]

    init() {
        stripes = (0..<RecordCache.stripes).map { _ in Stripe() }
    }

    private func stripe(_ id: String) -> Stripe {
        stripes[Int(id.utf8.last ?? 0) % RecordCache.stripes]
    }

    func record(id: String, stamp: FileStamp) -> StreamRecord? {
        stripe(id).entries.withLock { $0[id]?.stamp == stamp ? $0[id]?.record : nil }
    }

    /// Remembers a record read at `stamp`, if the stamp is settled enough to be trusted.
    func remember(_ record: StreamRecord, stamp: FileStamp) {
        guard stamp.isSettled else { return }
        stripe(record.id).entries.withLock { entries in
            if entries.count >= RecordCache.maxEntriesPerStripe { entries.removeAll(keepingCapacity: true) }
            entries[record.id] = (stamp, record)
        }
    }

    func forget(id: String) {
        _ = stripe(id).entries.withLock { $0.removeValue(forKey: id) }
    }
}
