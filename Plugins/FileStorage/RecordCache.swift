import LivestreamCore

/// Decoded records by id, and the whole listing, for reads that cost no system call.
///
/// Two ways to know an entry is still good: while the `DirectoryWatch` works, an entry
/// stays until the watch (or the store's own write) drops it; without a watch, each
/// entry carries the stamp of the file it was read from and a read compares stamps.
///
/// A read that fills the cache notes `generation` before reading the file; any change
/// reported in between bumps it and the fill is not kept, so a reader that lost a race
/// with a writer never caches what it read.
final class RecordCache: Sendable {
    private static let maxEntries = 65536

    private struct State {
        var records: [String: (stamp: FileStamp?, record: StreamRecord)] = [:]
        var listing: (stamp: FileStamp?, records: [StreamRecord])?
        var generation: UInt64 = 0
    }

    private let state = ReadMostly(State())

    /// Changes seen so far; note it before reading a file.
    var generation: UInt64 { state.read { $0.generation } }

    /// The cached record, if its stamp matches (`stamp` nil: watched, no stamp needed).
    func record(id: String, stamp: FileStamp?) -> StreamRecord? {
        state.read { state in
            guard let entry = state.records[id], entry.stamp == stamp else { return nil }
            return entry.record
        }
    }

    /// Keeps a record read at `generation`, unless something changed since.
    func remember(_ record: StreamRecord, stamp: FileStamp?, generation: UInt64) {
        if let stamp, !stamp.isSettled { return }
        state.write { state in
            guard state.generation == generation else { return }
            if state.records.count >= RecordCache.maxEntries { state.records.removeAll(keepingCapacity: true) }
            state.records[record.id] = (stamp, record)
        }
    }

    func listing(stamp: FileStamp?) -> (records: [StreamRecord], revision: UInt64)? {
        state.read { state in
            guard let listing = state.listing, listing.stamp == stamp else { return nil }
            return (listing.records, state.generation)
        }
    }

    /// Keeps a listing read at `generation`, unless something changed since; true if kept.
    func rememberListing(_ records: [StreamRecord], stamp: FileStamp?, generation: UInt64) -> Bool {
        if let stamp, !stamp.isSettled { return false }
        return state.write { state in
            guard state.generation == generation else { return false }
            state.listing = (stamp, records)
            return true
        }
    }

    /// A document changed: drop it and the listing.
    func forget(id: String) {
        state.write { state in
            state.generation += 1
            state.records.removeValue(forKey: id)
            state.listing = nil
        }
    }

    func forgetAll() {
        state.write { state in
            state.generation += 1
            state.records.removeAll()
            state.listing = nil
        }
    }
}
