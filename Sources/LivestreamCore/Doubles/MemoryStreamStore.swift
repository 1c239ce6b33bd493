import Synchronization

/// The reference `StreamStore`: records in memory, compare-and-set under a lock.
///
/// Used as the test double of the storage seam and to specify its behaviour.
public final class MemoryStreamStore: StreamStore {
    private let records = Mutex<[String: StreamRecord]>([:])
    public let cleanups: any CleanupJournal = MemoryCleanupJournal()
    public let events: (any EventJournal)? = MemoryEventJournal()

    public init(_ initial: [StreamRecord] = []) {
        records.withLock { stored in
            for var record in initial {
                record.version = max(record.version, 1)
                stored[record.id] = record
            }
        }
    }

    public func get(id: String) throws -> StreamRecord? {
        records.withLock { $0[id] }
    }

    public func create(_ record: StreamRecord) throws -> StreamRecord {
        try records.withLock { stored throws(ServiceError) in
            guard stored[record.id] == nil else {
                throw ServiceError(.conflict, code: "already_exists", "stream \(record.id) already exists")
            }
            var saved = record
            saved.version = 1
            stored[record.id] = saved
            return saved
        }
    }

    public func replace(_ record: StreamRecord) throws -> StreamRecord {
        try records.withLock { stored throws(ServiceError) in
            guard let current = stored[record.id] else { throw ServiceError.streamNotFound(record.id) }
            guard current.version == record.version else { throw ServiceError.versionConflict(record.id) }
            var saved = record
            saved.version += 1
            stored[record.id] = saved
            return saved
        }
    }

    public func delete(_ record: StreamRecord) throws {
        try records.withLock { stored throws(ServiceError) in
            guard let current = stored[record.id] else { throw ServiceError.streamNotFound(record.id) }
            guard current.version == record.version else { throw ServiceError.versionConflict(record.id) }
            stored[record.id] = nil
        }
    }

    public func list(limit: Int?, after token: String?) throws -> StreamPage {
        if let token, !Identifier.isStorableStreamId(token) { throw ServiceError.badRequest("next_token is not valid") }
        let all = records.withLock { Array($0.values) }.sorted { $0.id < $1.id }
        let remaining = token.map { token in all.filter { $0.id > token } } ?? all
        guard let limit, remaining.count > limit else { return StreamPage(records: remaining, nextToken: nil) }
        let page = Array(remaining.prefix(limit))
        return StreamPage(records: page, nextToken: page.last?.id)
    }
}
