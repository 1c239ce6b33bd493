import LivestreamCore

/// The JSON of records recently sent, reused while a record stays the same.
///
/// `GET /streams/{id}` is the hot read and rendering dominated its cost. A record read
/// from a store cache shares its strings and dictionaries with the one rendered last
/// time, so comparing the two is a handful of pointer checks; any difference renders anew.
final class RenderedRecords: Sendable {
    private static let maxEntries = 4096
    private let entries = ReadMostly<[String: (record: StreamRecord, body: [UInt8])]>([:])

    func body(for record: StreamRecord) -> [UInt8] {
        if let hit = entries.read({ $0[record.id].flatMap { $0.record == record ? $0.body : nil } }) { return hit }
        let body = record.apiJSON
        entries.write { entries in
            if entries.count >= RenderedRecords.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[record.id] = (record, body)
        }
        return body
    }
}
