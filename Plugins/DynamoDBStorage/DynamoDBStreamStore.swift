import AWSClient
import Foundation
import LivestreamCore
import Logging
import Synchronization

/// Storage plugin `dynamodb`: the old deployment's table (hash key `id`, type S), item for item.
///
/// An item is the record's contract fields with the old deployment's types (ids and
/// timestamps S, counts N, flags BOOL, unset timestamps NULL, `archives_path` M,
/// `ssm_paths` L) plus the client's extra fields, so the old Lambda functions and this
/// service read each other's items. Four attributes are the service's own:
/// `livestreamd_version` (N, compare-and-set through `ConditionExpression`; an old
/// item without it is adopted on its first write), `livestreamd_media` (M, the
/// media plugin's state), `livestreamd_sessions` (M, when each session started and
/// stopped, part of the record's `storedObject`) and `livestreamd_write` (S, a random token per write: a retried
/// conditional write whose first attempt landed, its answer lost, finds its own token and
/// knows it succeeded). Pending cleanups live in a table of their own
/// (`DynamoDBCleanupJournal`), out of the old handlers' Scan of this one.
public final class DynamoDBStreamStore: StreamStore {
    static let versionAttribute = "livestreamd_version"
    static let mediaAttribute = "livestreamd_media"
    static let writeAttribute = "livestreamd_write"
    static let target = "DynamoDB_20120810"

    let table: String
    let dynamodb: AWSService
    let logger: Logger
    private let lastProblems = Mutex<[StoreProblem]>([])
    /// `storage.dynamodb.cleanup_table`; nil: `<table>-livestreamd-cleanups`, created on first use.
    let cleanupTable: String?
    private let cleanupTableReady = DynamoDBCleanupJournal.Readiness()
    /// `storage.dynamodb.events_table`; nil: `<table>-livestreamd-events`, created on first use.
    let eventsTable: String?
    let eventRetention: Duration
    private let eventJournalState = DynamoDBEventJournal.Shared()

    /// - Parameters:
    ///   - eventsTable: `storage.dynamodb.events_table`; nil: `<table>-livestreamd-events`, created on first use.
    ///   - eventRetention: how long the event journal keeps events.
    public init(
        table: String, dynamodb: AWSService, logger: Logger, cleanupTable: String? = nil, eventsTable: String? = nil,
        eventRetention: Duration = .seconds(30 * 86400)
    ) {
        self.cleanupTable = cleanupTable
        self.table = table
        self.dynamodb = dynamodb
        self.logger = logger
        self.eventsTable = eventsTable.flatMap { $0.isEmpty ? nil : $0 }
        self.eventRetention = eventRetention
    }

    public var events: (any EventJournal)? {
        DynamoDBEventJournal(store: self, table: eventsTable, retention: eventRetention, shared: eventJournalState)
    }

    public var problems: [StoreProblem] { lastProblems.withLock { $0 } }

    public var cleanups: any CleanupJournal { DynamoDBCleanupJournal(store: self, table: cleanupTable, ready: cleanupTableReady) }

    public func checkReady() throws {
        _ = try call("DescribeTable", ["TableName": .string(table)])
    }

    public func get(id: String) throws -> StreamRecord? {
        try storedItem(id).map(record(from:))
    }

    private func storedItem(_ id: String) throws -> [String: JSONValue]? {
        let answer = try call("GetItem", ["TableName": .string(table), "Key": key(id), "ConsistentRead": true])
        guard case .object(let item)? = answer.objectValue?["Item"] else { return nil }
        return item
    }

    public func create(_ record: StreamRecord) throws -> StreamRecord {
        var saved = record
        saved.version = 1
        let token = Identifier.make()
        do {
            try landed(saved.id, token) {
                let request: [String: JSONValue] = ["TableName": .string(table), "Item": item(saved, token: token), "ConditionExpression": "attribute_not_exists(id)"]
                _ = try call("PutItem", request, passing: AWSError.Code.conditionalCheckFailed)
            }
        } catch is AWSError {  // the condition failed: the id is taken (by an earlier attempt of this write, or by another)
            guard try holds(saved.id, token) else { throw ServiceError(.conflict, code: .alreadyExists, "stream \(record.id) already exists") }
        }
        return saved
    }

    public func replace(_ record: StreamRecord) throws -> StreamRecord {
        var saved = record
        saved.version = record.version + 1
        let token = Identifier.make()
        try conditional(record, token: token) { condition in
            try landed(saved.id, token) {
                _ = try call("PutItem", ["TableName": .string(table), "Item": item(saved, token: token)].merging(condition) { a, _ in a }, passing: AWSError.Code.conditionalCheckFailed)
            }
        }
        return saved
    }

    /// Runs a write; when no answer came (every attempt's was lost or timed out), one read tells
    /// whether it landed.
    private func landed(_ id: String, _ token: String, _ write: () throws -> Void) throws {
        do {
            try write()
        } catch let error as ServiceError where error.isNoAnswer {
            guard (try? holds(id, token)) == true else { throw error }
        }
    }

    /// Whether the stored item is the one the write with `token` put there.
    private func holds(_ id: String, _ token: String) throws -> Bool {
        try storedItem(id)?[DynamoDBStreamStore.writeAttribute] == ["S": .string(token)]
    }

    public func delete(_ record: StreamRecord) throws {
        try conditional(record) { condition in
            do {
                _ = try call("DeleteItem", ["TableName": .string(table), "Key": key(record.id)].merging(condition) { a, _ in a }, passing: AWSError.Code.conditionalCheckFailed)
            } catch let error as ServiceError where error.isNoAnswer {
                // No answer: gone means it landed.
                guard case .success(nil) = Result(catching: { try get(id: record.id) }) else { throw error }
            }
        }
    }

    public func list(limit: Int?, after token: String?) throws -> StreamPage {
        try scan(limit: limit, after: token, consistent: true)
    }

    /// An eventually consistent Scan: half the read capacity of a consistent one (README: read cost).
    public func listForRefresh() throws -> [StreamRecord] {
        try scan(limit: nil, after: nil, consistent: false).records
    }

    private func scan(limit: Int?, after token: String?, consistent: Bool) throws -> StreamPage {
        if let token, !Identifier.isStorableStreamId(token) { throw ServiceError.badRequest("next_token is not valid") }
        var records: [StreamRecord] = []
        var problems: [StoreProblem] = []
        var start: JSONValue? = token.map { key($0) }
        repeat {
            var request: [String: JSONValue] = ["TableName": .string(table), "ConsistentRead": .bool(consistent)]
            if let start { request["ExclusiveStartKey"] = start }
            if let limit { request["Limit"] = .int(Int64(limit - records.count)) }
            let page = try call("Scan", request).objectValue ?? [:]
            for case .object(let item) in page["Items"]?.arrayValue ?? [] {
                // Left by earlier versions until the journal moves it to its own table.
                if item["id"] == ["S": .string(DynamoDBCleanupJournal.legacyItemId)] { continue }
                do {
                    records.append(try record(from: item))
                } catch {
                    let id = (try? AttributeValue.decode(item["id"] ?? .null))?.stringValue ?? "?"
                    problems.append(StoreProblem(location: "item \(id)", reason: "\(error)"))
                }
            }
            start = page["LastEvaluatedKey"]
        } while start != nil && (limit == nil || records.count < limit!)
        for problem in problems {
            logger.warning("skipped an item in the table", metadata: ["item": "\(problem.location)", "reason": "\(problem.reason)"])
        }
        lastProblems.withLock { $0 = problems }
        let nextToken = limit != nil ? start.flatMap { try? AttributeValue.decode($0.objectValue?["id"] ?? .null) }?.stringValue : nil
        return StreamPage(records: limit == nil ? records.sorted { $0.id < $1.id } : records, nextToken: nextToken)
    }

    // MARK: - Items

    func key(_ id: String) -> JSONValue { ["id": ["S": .string(id)]] }

    func item(_ record: StreamRecord, token: String) -> JSONValue {
        guard case .object(var fields) = record.storedObject else { return .null }
        fields[DynamoDBStreamStore.versionAttribute] = .int(Int64(record.version))
        fields[DynamoDBStreamStore.writeAttribute] = .string(token)
        if !record.mediaState.isEmpty { fields[DynamoDBStreamStore.mediaAttribute] = .object(record.mediaState) }
        return .object(fields.mapValues(AttributeValue.encode))
    }

    func record(from item: [String: JSONValue]) throws -> StreamRecord {
        var fields = try item.mapValues(AttributeValue.decode)
        let version: Int
        switch fields.removeValue(forKey: DynamoDBStreamStore.versionAttribute) {
        case .int(let number)?: version = Int(number)
        default: version = 0
        }
        fields.removeValue(forKey: DynamoDBStreamStore.writeAttribute)
        let media = fields.removeValue(forKey: DynamoDBStreamStore.mediaAttribute)?.objectValue ?? [:]
        return try StreamRecord(apiObject: fields, version: version, mediaState: media)
    }

    /// Runs a write under "the stored version is still the one read"; a failed condition is 404 or 409,
    /// unless the stored item carries the write's `token` (its own earlier attempt landed).
    private func conditional(_ record: StreamRecord, token: String? = nil, _ write: ([String: JSONValue]) throws -> Void) throws {
        var condition: [String: JSONValue] = ["ExpressionAttributeNames": ["#v": .string(DynamoDBStreamStore.versionAttribute)]]
        if record.version == 0 {
            condition["ConditionExpression"] = "attribute_exists(id) AND attribute_not_exists(#v)"
        } else {
            condition["ConditionExpression"] = "#v = :v"
            condition["ExpressionAttributeValues"] = [":v": ["N": .string(String(record.version))]]
        }
        do {
            try write(condition)
        } catch is AWSError {  // only the failed condition passes through `call` as an AWSError
            guard let stored = try storedItem(record.id) else { throw ServiceError.streamNotFound(record.id) }
            if let token, stored[DynamoDBStreamStore.writeAttribute] == ["S": .string(token)] { return }  // the retried write's own
            throw ServiceError.versionConflict(record.id)
        }
    }

    /// One JSON-protocol call; AWS failures become service errors (502/503/504) carrying the AWS code,
    /// except an `AWSError` whose code the caller handles itself (`passing`), which it gets as it came.
    func call(_ operation: String, _ request: [String: JSONValue], passing handled: String? = nil) throws -> JSONValue {
        do {
            let body = try dynamodb.json(targetPrefix: DynamoDBStreamStore.target, operation: operation, body: JSONValue.object(request).serialized())
            return body.isEmpty ? [:] : try JSONValue.parse(body, maxDepth: 256)
        } catch let error as JSONParseError {
            throw ServiceError(.upstreamFailed, code: "InvalidResponse", "dynamodb \(operation): unreadable answer: \(error)")
        } catch let error as AWSError where error.code == handled {
            throw error
        } catch {
            throw ServiceError.aws(error, doing: operation)
        }
    }
}

/// Registers storage plugin `dynamodb`.
public enum DynamoDBStoragePlugin {
    public static let options = [
        ConfigOption("storage.dynamodb.table", .string, default: nil, help: "table with hash key id (S), as the old deployment created it"),
        ConfigOption(
            "storage.dynamodb.cleanup_table", .string, default: nil,
            help: "table for pending teardowns (hash key id, S), kept out of the streams table the old deployment scans; unset: <table>-livestreamd-cleanups, created on first use"),
        ConfigOption(
            "storage.dynamodb.events_table", .string, default: nil,
            help: "table of the event journal (hash key stream_id S, range key sequence N, global secondary index feed: hash feed S, range sequence N); unset: <table>-livestreamd-events, created on first use with TTL on expires_at"),
    ] + AWSSettings.options

    /// What livestreamd needs on the streams table and the cleanup table (created on first use when not named).
    public static func iamStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        let table = configuration.string("storage.dynamodb.table") ?? "<storage.dynamodb.table>"
        let named = configuration.string("storage.dynamodb.cleanup_table").flatMap { $0.isEmpty ? nil : $0 }
        let cleanups = named ?? DynamoDBCleanupJournal.defaultTable(for: table)
        let namedEvents = configuration.string("storage.dynamodb.events_table").flatMap { $0.isEmpty ? nil : $0 }
        let events = namedEvents ?? DynamoDBEventJournal.defaultTable(for: table)
        return [
            IAMStatement(
                sid: "StreamsTable", actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:DescribeTable"],
                resources: [scope.arn("dynamodb", "table/\(table)")]),
            IAMStatement(
                sid: "CleanupTable",
                actions: ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:DescribeTable"] + (named == nil ? ["dynamodb:CreateTable"] : []),
                resources: [scope.arn("dynamodb", "table/\(cleanups)")]),
            IAMStatement(
                sid: "EventTable",
                actions: ["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
                    + (namedEvents == nil ? ["dynamodb:CreateTable", "dynamodb:UpdateTimeToLive"] : []),
                resources: [scope.arn("dynamodb", "table/\(events)"), scope.arn("dynamodb", "table/\(events)/index/\(DynamoDBEventJournal.feedIndex)")]),
        ]
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerStorage("dynamodb", summary: "the old deployment's DynamoDB table, item for item, conditional writes", options: options) { context in
            let table = try context.configuration.requiredString("storage.dynamodb.table")
            let aws = try AWSSettings.shared(configuration: context.configuration, logger: context.logger)
            let days = context.configuration.int("events.retention_days")
            return DynamoDBStreamStore(
                table: table, dynamodb: aws.service("dynamodb", logger: context.logger), logger: context.logger,
                cleanupTable: context.configuration.string("storage.dynamodb.cleanup_table"), eventsTable: context.configuration.string("storage.dynamodb.events_table"),
                eventRetention: .seconds((days > 0 ? days : 30) * 86400))
        }
    }
}
