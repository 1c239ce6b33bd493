import AWSClient
import Foundation
import LivestreamCore
import Synchronization

/// The DynamoDB store's `EventJournal`: a table of its own (not the streams table, which the
/// old deployment's handlers Scan), hash key `stream_id` (S), range key `sequence` (N), and a
/// global secondary index `feed` (hash `feed` (S), range `sequence`) holding every event in
/// one order.
///
/// Numbers come from one counter item (`stream_id` = `livestreamd#sequence`, `sequence` = 0,
/// outside the index), raised with `UpdateItem ADD`: unique across processes; a retried or
/// failed append leaves a gap, never a number used twice. Each event's `expires_at` (N, epoch
/// seconds) is its time plus the retention, for DynamoDB's TTL (enabled on a table created
/// here); reads leave expired events out whether TTL removed them yet or not. The index is
/// eventually consistent: the feed stops before a gap whose next event is younger than
/// `settle` (the missing one may not be visible yet), so a reader's `after` never skips it.
/// The table is `storage.dynamodb.events_table`, which must exist, or by default
/// `<table>-livestreamd-events`, created on first use.
final class DynamoDBEventJournal: EventJournal {
    static let counterKey = "livestreamd#sequence"
    static let feedIndex = "feed"
    static let feedValue = "all"

    let store: DynamoDBStreamStore
    let table: String
    let createsTable: Bool
    private let retention: Duration
    private let settle: Duration
    private let shared: Shared
    private let now: @Sendable () -> Int64
    private let sleep: @Sendable (Duration) -> Void

    /// - Parameters:
    ///   - table: `storage.dynamodb.events_table`; nil for the default name, created when missing.
    ///   - now: epoch milliseconds (tests).
    /// What the store's journals share: whether the table was prepared, and when they last pruned.
    final class Shared: Sendable {
        let ready = Mutex(false)
        let pruning = PruneSchedule()
        init() {}
    }

    /// - Parameters:
    ///   - shared: the store's, so the table is checked once per process and pruning runs once an hour.
    init(
        store: DynamoDBStreamStore, table: String?, retention: Duration, shared: Shared, settle: Duration = .seconds(5),
        now: @escaping @Sendable () -> Int64 = { EventClock.nowMilliseconds() }, sleep: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.inSeconds) }
    ) {
        self.store = store
        self.table = table ?? DynamoDBEventJournal.defaultTable(for: store.table)
        createsTable = table == nil
        self.retention = retention
        self.shared = shared
        self.settle = settle
        self.now = now
        self.sleep = sleep
    }

    static func defaultTable(for streams: String) -> String {
        String((streams + "-livestreamd-events").prefix(255))
    }

    func append(_ event: NewEvent) throws -> StreamEvent {
        try prepare()
        let counter = try store.call("UpdateItem", [
            "TableName": .string(table), "Key": DynamoDBEventJournal.key(DynamoDBEventJournal.counterKey, 0),
            "UpdateExpression": "ADD next_sequence :one", "ExpressionAttributeValues": [":one": ["N": "1"]], "ReturnValues": "UPDATED_NEW",
        ])
        guard let text = counter.objectValue?["Attributes"]?.objectValue?["next_sequence"]?.objectValue?["N"]?.stringValue, let sequence = Int64(text) else {
            throw ServiceError(.upstreamFailed, code: "InvalidResponse", "dynamodb UpdateItem: the event counter's answer holds no number")
        }
        let stored = StreamEvent(sequence: sequence, event)
        var item = DynamoDBEventJournal.key(stored.streamId, sequence).objectValue ?? [:]
        item["feed"] = ["S": .string(DynamoDBEventJournal.feedValue)]
        item["event"] = ["S": .string(String(decoding: stored.jsonValue.serialized(), as: UTF8.self))]
        item["expires_at"] = ["N": .string(String(stored.at / 1000 + retention.components.seconds))]
        // The same item again on a retry: a put is safe to repeat.
        _ = try store.call("PutItem", ["TableName": .string(table), "Item": .object(item)])
        if shared.pruning.claim(now: now()) { try? prune(before: now() - retention.components.seconds * 1000) }
        return stored
    }

    func events(of streamId: String, after: Int64, limit: Int) throws -> [StreamEvent] {
        try prepare()
        return try query([
            "TableName": .string(table), "ConsistentRead": true, "KeyConditionExpression": "stream_id = :id AND #sequence > :after",
            "ExpressionAttributeNames": ["#sequence": "sequence"],
            "ExpressionAttributeValues": [":id": ["S": .string(streamId)], ":after": ["N": .string(String(after))]],
        ], limit: limit)
    }

    func feed(after: Int64, limit: Int) throws -> [StreamEvent] {
        try prepare()
        let found = try query(feedQuery(after: after), limit: limit)
        var settled: [StreamEvent] = []
        var expected = after + 1
        for event in found {
            // A gap before a young event: the missing one may still be on its way into the index.
            if event.sequence != expected && now() - event.at < settle.components.seconds * 1000 { break }
            settled.append(event)
            expected = event.sequence + 1
        }
        return settled
    }

    func prune(before cutoff: Int64) throws {
        try prepare()
        // Events are appended in time order, so the oldest come first in the feed.
        var after: Int64 = 0
        while true {
            let page = try query(feedQuery(after: after), limit: 100, keepExpired: true)
            for event in page {
                guard event.at < cutoff else { return }
                _ = try store.call("DeleteItem", ["TableName": .string(table), "Key": DynamoDBEventJournal.key(event.streamId, event.sequence)])
                after = event.sequence
            }
            if page.count < 100 { return }
        }
    }

    func latestSequence() throws -> Int64 {
        try prepare()
        let item = try getItem(DynamoDBEventJournal.counterKey)
        return item?["next_sequence"]?.objectValue?["N"]?.stringValue.flatMap { Int64($0) } ?? 0
    }

    /// Item `stream_id` = `livestreamd#cursor#<name>`, `sequence` = 0 (outside the index, without `expires_at`):
    /// `cursor` (S, JSON) and `version` (N), replaced under a condition on the version.
    func cursor(_ name: String) throws -> StoredCursor? {
        try prepare()
        guard let item = try getItem(DynamoDBEventJournal.cursorKey(name)) else { return nil }
        guard let text = item["cursor"]?.objectValue?["S"]?.stringValue, let value = try? JSONValue.parse(Array(text.utf8)),
            let version = item["version"]?.objectValue?["N"]?.stringValue.flatMap({ Int($0) })
        else {
            throw ServiceError.internal("the journal cursor \(name) in \(table) is damaged")
        }
        return StoredCursor(value: value, version: version)
    }

    func storeCursor(_ name: String, value: JSONValue, replacing version: Int?) throws -> Bool {
        try prepare()
        var item = DynamoDBEventJournal.key(DynamoDBEventJournal.cursorKey(name), 0).objectValue ?? [:]
        item["cursor"] = ["S": .string(String(decoding: value.serialized(), as: UTF8.self))]
        item["version"] = ["N": .string(String((version ?? 0) + 1))]
        var request: [String: JSONValue] = ["TableName": .string(table), "Item": .object(item)]
        if let version {
            request["ConditionExpression"] = "version = :version"
            request["ExpressionAttributeValues"] = [":version": ["N": .string(String(version))]]
        } else {
            request["ConditionExpression"] = "attribute_not_exists(stream_id)"
        }
        do {
            _ = try store.call("PutItem", request)
            return true
        } catch let error as ServiceError where error.code == "ConditionalCheckFailedException" {
            // A retried put whose first attempt landed also ends here: the caller reads the cursor again either way.
            return false
        }
    }

    static func cursorKey(_ name: String) -> String { "livestreamd#cursor#" + name }

    private func getItem(_ streamId: String) throws -> [String: JSONValue]? {
        let answer = try store.call("GetItem", ["TableName": .string(table), "Key": DynamoDBEventJournal.key(streamId, 0), "ConsistentRead": true])
        return answer.objectValue?["Item"]?.objectValue
    }

    /// The feed index from `after` on.
    private func feedQuery(after: Int64) -> [String: JSONValue] {
        [
            "TableName": .string(table), "IndexName": .string(DynamoDBEventJournal.feedIndex), "KeyConditionExpression": "feed = :all AND #sequence > :after",
            "ExpressionAttributeNames": ["#sequence": "sequence"],
            "ExpressionAttributeValues": [":all": ["S": .string(DynamoDBEventJournal.feedValue)], ":after": ["N": .string(String(after))]],
        ]
    }

    private static func key(_ streamId: String, _ sequence: Int64) -> JSONValue {
        ["stream_id": ["S": .string(streamId)], "sequence": ["N": .string(String(sequence))]]
    }

    /// Query pages until `limit` events are found or none are left; expired events left out.
    private func query(_ request: [String: JSONValue], limit: Int, keepExpired: Bool = false) throws -> [StreamEvent] {
        let cutoff = now() - retention.components.seconds * 1000
        var events: [StreamEvent] = []
        var start: JSONValue?
        repeat {
            var page = request
            page["Limit"] = .int(Int64(min(1000, limit - events.count)))
            if let start { page["ExclusiveStartKey"] = start }
            let answer = try store.call("Query", page).objectValue ?? [:]
            for case .object(let item) in answer["Items"]?.arrayValue ?? [] {
                guard let text = item["event"]?.objectValue?["S"]?.stringValue, let json = try? JSONValue.parse(Array(text.utf8)),
                    let event = StreamEvent(jsonValue: json), keepExpired || event.at >= cutoff
                else { continue }
                events.append(event)
            }
            start = answer["LastEvaluatedKey"]
        } while start != nil && events.count < limit
        return Array(events.prefix(limit))
    }

    /// Once per process: the table is there (created, with TTL, when it may be).
    private func prepare() throws {
        guard !shared.ready.withLock({ $0 }) else { return }
        let created = try OwnTable(
            store: store, name: table, createsTable: createsTable, what: "the event table", option: "storage.dynamodb.events_table",
            keys: "hash key stream_id (S), range key sequence (N) and a global secondary index feed (hash feed (S), range sequence (N), all attributes)",
            definition: [
                "KeySchema": [["AttributeName": "stream_id", "KeyType": "HASH"], ["AttributeName": "sequence", "KeyType": "RANGE"]],
                "AttributeDefinitions": [
                    ["AttributeName": "stream_id", "AttributeType": "S"], ["AttributeName": "sequence", "AttributeType": "N"],
                    ["AttributeName": "feed", "AttributeType": "S"],
                ],
                "GlobalSecondaryIndexes": [[
                    "IndexName": .string(DynamoDBEventJournal.feedIndex),
                    "KeySchema": [["AttributeName": "feed", "KeyType": "HASH"], ["AttributeName": "sequence", "KeyType": "RANGE"]],
                    "Projection": ["ProjectionType": "ALL"],
                ]],
            ], sleep: sleep
        ).ensure()
        if created {
            do {
                _ = try store.call("UpdateTimeToLive", [
                    "TableName": .string(table), "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "expires_at"],
                ])
            } catch {
                store.logger.notice("cannot enable TTL on the event table; the hourly prune removes old events instead", metadata: ["table": "\(table)", "error": "\(error)"])
            }
        }
        shared.ready.withLock { $0 = true }
    }
}
