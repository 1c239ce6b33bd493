import Logging
import Synchronization

/// Logs the unreadable attributes of stored items (`StreamRecord.problems`) once per item version.
///
/// Listings read every item on every request; an old item's odd attribute is worth one
/// warning, not one per request.
final class RecordProblemLog: Sendable {
    private let reported = Mutex<Set<String>>([])
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func report(_ records: some Sequence<StreamRecord>, to logger: Logger) {
        for record in records where !record.problems.isEmpty {
            let key = "\(record.id)#\(record.version)"
            let isNew = reported.withLock { seen in
                if seen.count >= capacity { seen.removeAll() }
                return seen.insert(key).inserted
            }
            if isNew {
                logger.warning(
                    "a stored stream has attributes that cannot be read; shown without them (see its problems)",
                    metadata: ["stream": "\(record.id)", "problems": "\(record.problems.joined(separator: "; "))"])
            }
        }
    }
}
