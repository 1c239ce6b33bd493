import AWSClient
import LivestreamCore

/// The DynamoDB store's `CleanupJournal`: one item, `id = livestreamd_cleanups`, in the streams table.
///
/// Each pending cleanup is one attribute `cleanup_<id>` (S, its JSON) of that item,
/// added with `SET` and removed with `REMOVE`: single-attribute updates need no
/// read-modify-write, so processes sharing the table never overwrite each other's
/// entries, and reading the journal is one GetItem. The item's id is not a stream id
/// (those are 32 hex), so record reads never meet it and listings skip it.
final class DynamoDBCleanupJournal: CleanupJournal {
    static let itemId = "livestreamd_cleanups"
    static let attributePrefix = "cleanup_"

    let store: DynamoDBStreamStore

    init(store: DynamoDBStreamStore) {
        self.store = store
    }

    func save(_ cleanup: PendingCleanup) throws {
        _ = try store.call("UpdateItem", [
            "TableName": .string(store.table), "Key": store.key(DynamoDBCleanupJournal.itemId),
            "UpdateExpression": "SET #c = :v",
            "ExpressionAttributeNames": ["#c": .string(DynamoDBCleanupJournal.attributePrefix + cleanup.id)],
            "ExpressionAttributeValues": [":v": ["S": .string(String(decoding: cleanup.jsonValue.serialized(), as: UTF8.self))]],
        ])
    }

    func pending() throws -> [PendingCleanup] {
        let answer = try store.call("GetItem", ["TableName": .string(store.table), "Key": store.key(DynamoDBCleanupJournal.itemId), "ConsistentRead": true])
        var cleanups: [PendingCleanup] = []
        for (name, value) in answer.objectValue?["Item"]?.objectValue ?? [:] where name.hasPrefix(DynamoDBCleanupJournal.attributePrefix) {
            guard let text = value.objectValue?["S"]?.stringValue, let json = try? JSONValue.parse(Array(text.utf8)),
                let cleanup = PendingCleanup(jsonValue: json)
            else { continue }
            cleanups.append(cleanup)
        }
        return cleanups.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    func finish(id: String) throws {
        _ = try store.call("UpdateItem", [
            "TableName": .string(store.table), "Key": store.key(DynamoDBCleanupJournal.itemId),
            "UpdateExpression": "REMOVE #c", "ExpressionAttributeNames": ["#c": .string(DynamoDBCleanupJournal.attributePrefix + id)],
        ])
    }
}
