/// Where stream records live (seam `storage`).
///
/// Every write is a compare-and-set on `StreamRecord.version`: the caller passes the
/// record it read, the store writes only if the stored version still matches and
/// returns the record with its new version. Two writers of one stream therefore
/// serialise or one of them gets `ServiceError.versionConflict`; no update is lost.
/// `MemoryStreamStore` is the reference implementation and test double.
public protocol StreamStore: Sendable {
    /// The record with this id, or nil.
    func get(id: String) throws -> StreamRecord?

    /// Stores a new record (its `version` is ignored); conflict if the id exists.
    /// - Returns: the stored record with its first version.
    func create(_ record: StreamRecord) throws -> StreamRecord

    /// Replaces a record if the stored version equals `record.version`.
    /// - Returns: the stored record with its new version.
    /// - Throws: `ServiceError.versionConflict` when the version moved, `streamNotFound` when gone.
    func replace(_ record: StreamRecord) throws -> StreamRecord

    /// Deletes a record if the stored version equals `record.version`.
    func delete(_ record: StreamRecord) throws

    /// One page of records in id order, starting after `token`.
    /// - Parameters:
    ///   - limit: the most records to return; nil for all of them.
    ///   - token: the `nextToken` of the previous page.
    func list(limit: Int?, after token: String?) throws -> StreamPage

    /// Every record, as background work reads them: a store whose strongly consistent reads cost
    /// more may answer from a slightly older view (a refresh that misses a write made a moment ago
    /// catches it in its next round, and its writes are compare-and-set anyway).
    func listForRefresh() throws -> [StreamRecord]

    /// Records the store could not read, found by the last listing (file name or key, and why).
    var problems: [StoreProblem] { get }

    /// Pending teardown work, kept beside the records.
    var cleanups: any CleanupJournal { get }

    /// Every state change of every stream, kept beside the records; nil: this store keeps no journal.
    var events: (any EventJournal)? { get }

    /// `GET /readyz`: throws when the store cannot serve (its folder unwritable, its table unreachable).
    func checkReady() throws
}

extension StreamStore {
    public var problems: [StoreProblem] { [] }

    public var events: (any EventJournal)? { nil }

    public func checkReady() throws {}

    public func listForRefresh() throws -> [StreamRecord] {
        try list(limit: nil, after: nil).records
    }
}

/// A page of a listing.
public struct StreamPage: Sendable, Equatable {
    public var records: [StreamRecord]
    /// Pass to the next `list` call; nil on the last page.
    public var nextToken: String?
    /// Identifies the stored contents this page was read from, when the store can vouch
    /// that equal revisions mean equal contents (lets the API reuse a rendered response).
    public var revision: String?

    public init(records: [StreamRecord], nextToken: String?, revision: String? = nil) {
        self.records = records
        self.nextToken = nextToken
        self.revision = revision
    }
}

/// A stored entry that is not a readable stream record.
public struct StoreProblem: Sendable, Equatable {
    public let location: String
    public let reason: String

    public init(location: String, reason: String) {
        self.location = location
        self.reason = reason
    }
}

extension StreamStore {
    /// Read, change, compare-and-set; retried when another writer got in between.
    ///
    /// An unchanged record is not written.
    /// - Parameters:
    ///   - id: the stream.
    ///   - attempts: how often to retry after version conflicts.
    ///   - change: applied to the freshly read record on every attempt.
    /// - Returns: the stored record, or nil when the stream does not exist.
    /// - Throws: `versionConflict` when every attempt lost the race.
    public func update(id: String, attempts: Int = 8, _ change: (inout StreamRecord) throws -> Void) throws -> StreamRecord? {
        for _ in 0..<attempts {
            guard var record = try get(id: id) else { return nil }
            let before = record
            try change(&record)
            if record == before { return record }
            // Written back in the store's own form, the item's unreadable attributes are gone.
            record.problems = []
            do {
                return try replace(record)
            } catch let error as ServiceError where error.code == .versionConflict {
                continue
            }
        }
        throw ServiceError.versionConflict(id)
    }
}
