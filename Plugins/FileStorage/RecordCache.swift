import LivestreamCore

/// Decoded records by id, each valid while its file keeps the stamp it was read at.
///
/// Every GET consults it, usually for the same few streams, so lookups share a
/// reader-writer lock instead of queueing on a mutex.
final class RecordCache: Sendable {
    private static let maxEntries = 65536
    private let entries = ReadMostly<[String: (stamp: FileStamp, record: StreamRecord)]>([:])

    func record(id: String, stamp: FileStamp) -> StreamRecord? {
        entries.read { entries in
            guard let entry = entries[id], entry.stamp == stamp else { return nil }
            return entry.record
        }
    }

    /// Remembers a record read at `stamp`, if the stamp is settled enough to be trusted.
    func remember(_ record: StreamRecord, stamp: FileStamp) {
        guard stamp.isSettled else { return }
        entries.write { entries in
            if entries.count >= RecordCache.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[record.id] = (stamp, record)
        }
    }

    func forget(id: String) {
        let present = entries.read { $0[id] != nil }
        if present { entries.write { _ = $0.removeValue(forKey: id) } }
    }
}
