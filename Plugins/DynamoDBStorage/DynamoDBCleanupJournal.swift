import AWSClient
import Foundation
import LivestreamCore
import Synchronization

/// The DynamoDB store's `CleanupJournal`: one item per pending cleanup in a table of its own.
///
/// Not in the streams table: the old deployment's handlers, which may share that table
/// during a migration, list it with a plain Scan and would show anything else there as a
/// stream. The table (hash key `id`, S; each item's `cleanup` attribute holds the JSON) is
/// `storage.dynamodb.cleanup_table`, which must exist, or by default `<table>-livestreamd-cleanups`,
/// created on first use (on-demand billing). Journals that earlier versions kept in the streams
/// table (item `livestreamd_cleanups`) are moved over on first use.
final class DynamoDBCleanupJournal: CleanupJournal {
    /// Where earlier versions kept the journal: one item of the streams table.
    static let legacyItemId = "livestreamd_cleanups"
    static let legacyAttributePrefix = "cleanup_"

    let store: DynamoDBStreamStore
    let table: String
    /// Whether a missing table may be created (the default name) or is a configuration error (a name given).
    let createsTable: Bool
    /// Set once the table is known to be there and the legacy item moved (shared by the store's journals).
    private let ready: Readiness
    private let sleep: @Sendable (Duration) -> Void

    /// - Parameters:
    ///   - table: `storage.dynamodb.cleanup_table`; nil for the default name, created when missing.
    ///   - ready: the store's flag, so the table is checked once per process.
    init(store: DynamoDBStreamStore, table: String?, ready: Readiness, sleep: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.inSeconds) }) {
        self.store = store
        self.table = table ?? DynamoDBCleanupJournal.defaultTable(for: store.table)
        createsTable = table == nil
        self.ready = ready
        self.sleep = sleep
    }

    /// Whether the cleanup table was prepared, once per store.
    final class Readiness: Sendable {
        let done = Mutex(false)
    }

    static func defaultTable(for streams: String) -> String {
        String((streams + "-livestreamd-cleanups").prefix(255))
    }

    func save(_ cleanup: PendingCleanup) throws {
        try prepare()
        try put(cleanup)
    }

    func pending() throws -> [PendingCleanup] {
        try prepare()
        var cleanups: [PendingCleanup] = []
        var start: JSONValue?
        repeat {
            var request: [String: JSONValue] = ["TableName": .string(table), "ConsistentRead": true]
            if let start { request["ExclusiveStartKey"] = start }
            let page = try store.call("Scan", request).objectValue ?? [:]
            for case .object(let item) in page["Items"]?.arrayValue ?? [] {
                if let cleanup = DynamoDBCleanupJournal.cleanup(in: item["cleanup"]) { cleanups.append(cleanup) }
            }
            start = page["LastEvaluatedKey"]
        } while start != nil
        return cleanups.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    func finish(id: String) throws {
        try prepare()
        _ = try store.call("DeleteItem", ["TableName": .string(table), "Key": store.key(id)])
    }

    private func put(_ cleanup: PendingCleanup) throws {
        _ = try store.call("PutItem", [
            "TableName": .string(table),
            "Item": ["id": ["S": .string(cleanup.id)], "cleanup": ["S": .string(String(decoding: cleanup.jsonValue.serialized(), as: UTF8.self))]],
        ])
    }

    private static func cleanup(in attribute: JSONValue?) -> PendingCleanup? {
        guard let text = attribute?.objectValue?["S"]?.stringValue, let json = try? JSONValue.parse(Array(text.utf8)) else { return nil }
        return PendingCleanup(jsonValue: json)
    }

    /// Once per process: the table exists (created if it may be) and the legacy item is moved into it.
    private func prepare() throws {
        guard !ready.done.withLock({ $0 }) else { return }
        try ensureTable()
        try moveLegacyItem()
        ready.done.withLock { $0 = true }
    }

    private func ensureTable() throws {
        try OwnTable(
            store: store, name: table, createsTable: createsTable, what: "the cleanup table", option: "storage.dynamodb.cleanup_table", keys: "hash key id (S)",
            definition: [
                "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]],
                "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
            ], sleep: sleep
        ).ensure()
    }

    private func moveLegacyItem() throws {
        let answer = try store.call("GetItem", ["TableName": .string(store.table), "Key": store.key(DynamoDBCleanupJournal.legacyItemId), "ConsistentRead": true])
        guard let item = answer.objectValue?["Item"]?.objectValue else { return }
        for (name, value) in item where name.hasPrefix(DynamoDBCleanupJournal.legacyAttributePrefix) {
            if let cleanup = DynamoDBCleanupJournal.cleanup(in: value) { try put(cleanup) }
        }
        _ = try store.call("DeleteItem", ["TableName": .string(store.table), "Key": store.key(DynamoDBCleanupJournal.legacyItemId)])
        store.logger.notice("moved the pending cleanups out of the streams table", metadata: ["from": "\(store.table)", "to": "\(table)"])
    }
}
