import AWSClient
import AWSTestSupport
@testable import DynamoDBStorage
import Foundation
import LivestreamCore
import Logging
import Testing

/// The dynamodb store against moto_server (signature checking on).
struct DynamoDBStreamStoreTests {
    let moto: MotoServer
    let key: (id: String, secret: String)
    let dynamodb: AWSService
    let store: DynamoDBStreamStore

    init() throws {
        moto = try MotoServer()
        key = try moto.makeAccessKey()
        dynamodb = moto.service("dynamodb", key: key.id, secret: key.secret)
        let table = #"{"TableName":"MedialiveApiStorage","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#
        _ = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "CreateTable", body: Array(table.utf8))
        store = DynamoDBStreamStore(table: "MedialiveApiStorage", dynamodb: dynamodb, logger: Logger(label: "test"))
    }

    func raw(_ operation: String, _ request: String) throws -> JSONValue {
        try JSONValue.parse(try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: operation, body: Array(request.utf8)))
    }

    @Test func oldItemsAreReadUpdatedAndStayReadableByTheOldCode() throws {
        let id = Identifier.make()
        // As the old Lambda functions left an item (boto3 types), without a version attribute.
        _ = try raw("PutItem", #"""
            {"TableName":"MedialiveApiStorage","Item":{
             "id":{"S":"\#(id)"},"name":{"S":"old"},"description":{"S":""},"segment_length":{"N":"300"},
             "rtmp1":{"S":"rtmp://1.2.3.4:1935/app/k"},"rtmp2":{"S":"rtmp://5.6.7.8:1935/app/k"},
             "viewer_endpoint":{"S":"https://x.mediapackage.us-east-1.amazonaws.com/out/v1/abc/index.m3u8"},
             "viewer_endpoint_cloudfront":{"S":"https://d1.cloudfront.net/out/v1/abc/index.m3u8"},
             "rtmp_ivs":{"S":""},"ivs_viewer_endpoint":{"S":""},"ecs_asg_count":{"N":"0"},"last_update":{"S":"1732500000"},
             "last_started":{"NULL":true},"last_stopped":{"NULL":true},"started":{"BOOL":false},"current_session_id":{"NULL":true},
             "archives_path":{"M":{}},"live_channel_id":{"S":"1234567"},"live_input_id":{"S":"7654321"},
             "package_channel_id":{"S":"\#(id)"},"package_endpoint_id":{"S":"\#(id)"},
             "ssm_paths":{"L":[{"S":"/Medialive_api/u1"},{"S":"/Medialive_api/u2"}]},"cloudfront_associated":{"BOOL":false},
             "key_rotation_interval":{"N":"60"},"startover_window_seconds":{"N":"43200"},"custom_note":{"S":"kept"}}}
            """#)
        let old = try #require(try store.get(id: id))
        #expect(old.version == 0 && old.name == "old" && old.segmentLength == 300 && old.ssmPaths.count == 2 && old.extra == ["custom_note": "kept"])

        var updated = old
        updated.name = "renamed"
        updated.lastStarted = "1732500100"
        let saved = try store.replace(updated)
        #expect(saved.version == 1)
        #expect { try store.replace(old) } throws: { ($0 as? ServiceError)?.code == "version_conflict" }

        let item = try #require(try raw("GetItem", #"{"TableName":"MedialiveApiStorage","Key":{"id":{"S":"\#(id)"}},"ConsistentRead":true}"#).objectValue?["Item"]?.objectValue)
        func type(_ name: String) -> String? { item[name]?.objectValue?.keys.first }
        #expect(type("id") == "S" && type("last_update") == "S" && type("last_started") == "S" && type("last_stopped") == "NULL")
        #expect(type("segment_length") == "N" && type("ecs_asg_count") == "N" && type("key_rotation_interval") == "N")
        #expect(type("started") == "BOOL" && type("cloudfront_associated") == "BOOL" && type("current_session_id") == "NULL")
        #expect(type("archives_path") == "M" && type("ssm_paths") == "L" && type("custom_note") == "S" && type("livestreamd_version") == "N")
    }

    /// Paging by `limit` is in the storage conformance suite; this is DynamoDB's own paging of Scan.
    @Test func listingReadsEveryScanPage() throws {
        // 14 items of ~300 KB: moto answers Scan in 1-MB pages, so several pages.
        let filler = JSONValue.string(String(repeating: "x", count: 300_000))
        var ids: [String] = []
        for index in 0..<14 {
            var record = StreamRecord(id: Identifier.make(), name: "big\(index)", lastUpdate: "1")
            record.extra = ["filler": filler]
            ids.append(try store.create(record).id)
        }
        let all = try store.list(limit: nil, after: nil)
        #expect(all.records.map(\.id) == ids.sorted() && all.nextToken == nil)
    }

    @Test func cleanupJournalLivesInATableOfItsOwnAndTakesOverTheOldItem() throws {
        // An earlier version kept the journal as one item of the streams table.
        let legacy = PendingCleanup(owner: "medialive", streamId: Identifier.make(), work: [["kind": "channel", "id": "9"]], createdAt: 5)
        let text = String(decoding: legacy.jsonValue.serialized(), as: UTF8.self)
        let item: [String: JSONValue] = ["id": ["S": "livestreamd_cleanups"], "cleanup_" + legacy.id: ["S": .string(text)]]
        let put = JSONValue.object(["TableName": "MedialiveApiStorage", "Item": .object(item)])
        _ = try raw("PutItem", String(decoding: put.serialized(), as: UTF8.self))
        let record = try store.create(StreamRecord(id: Identifier.make(), name: "n", lastUpdate: "1"))
        let fresh = PendingCleanup(owner: "medialive", streamId: record.id, work: [], createdAt: 10)
        try store.cleanups.save(fresh)
        #expect(try store.cleanups.pending() == [legacy, fresh])
        // The streams table holds streams only: what the old deployment's Scan shows as streams.
        let scanned = try raw("Scan", #"{"TableName":"MedialiveApiStorage","ConsistentRead":true}"#).objectValue?["Items"]?.arrayValue ?? []
        #expect(scanned.compactMap { $0.objectValue?["id"]?.objectValue?["S"]?.stringValue } == [record.id])
        let table = try raw("DescribeTable", #"{"TableName":"MedialiveApiStorage-livestreamd-cleanups"}"#)
        #expect(table.objectValue?["Table"]?.objectValue?["TableStatus"] == "ACTIVE")
    }

    @Test func aNamedCleanupTableMustExist() throws {
        let named = DynamoDBStreamStore(table: "MedialiveApiStorage", dynamodb: dynamodb, logger: Logger(label: "test"), cleanupTable: "not-there")
        #expect { try named.cleanups.pending() } throws: { ($0 as? ServiceError)?.code == "ResourceNotFoundException" }
    }

    @Test func awsFailuresBecomeUpstreamErrors() throws {
        let missing = DynamoDBStreamStore(table: "no-such-table", dynamodb: dynamodb, logger: Logger(label: "t"))
        #expect { try missing.get(id: Identifier.make()) } throws: { error in
            let service = error as? ServiceError
            return service?.kind == .upstreamFailed && service?.code == "ResourceNotFoundException"
        }
    }

    @Test func writesWhoseAnswersWereLostAreRecognisedAsTheirOwn() throws {
        let losing = AnswerLosingTransport()
        let retried = moto.service("dynamodb", key: key.id, secret: key.secret, retry: RetryPolicy(maxAttempts: 3, sleep: { _ in }), transport: losing)
        let lossy = DynamoDBStreamStore(table: "MedialiveApiStorage", dynamodb: retried, logger: Logger(label: "test"))

        // The first attempt lands, its answer is lost; the retry fails its condition against its own item.
        losing.lose("PutItem")
        let created = try lossy.create(StreamRecord(id: Identifier.make(), name: "n", lastUpdate: "1"))
        #expect(try store.get(id: created.id) == created)

        var changed = created
        changed.name = "m"
        losing.lose("PutItem")
        let replaced = try lossy.replace(changed)
        #expect(replaced.version == 2)
        #expect(try store.get(id: created.id) == replaced)

        // Every attempt's answer lost: one read finds the write landed.
        changed = replaced
        changed.name = "o"
        losing.lose("PutItem", count: 3)
        #expect(try lossy.replace(changed).version == 3)
        #expect(try store.get(id: created.id)?.name == "o")

        // Another writer's identical change from the same version is still a conflict: the token is this write's own.
        #expect { try store.replace(changed) } throws: { ($0 as? ServiceError)?.code == .versionConflict }
        #expect { try store.create(created) } throws: { ($0 as? ServiceError)?.code == .alreadyExists }

        losing.lose("DeleteItem", count: 3)
        try lossy.delete(try #require(try store.get(id: created.id)))
        #expect(try store.get(id: created.id) == nil)
    }

    @Test func backgroundRefreshesReadEventuallyConsistentlyAndClientsConsistently() throws {
        let recording = RecordingTransport()
        let recorded = DynamoDBStreamStore(
            table: "MedialiveApiStorage", dynamodb: moto.service("dynamodb", key: key.id, secret: key.secret, transport: recording), logger: Logger(label: "test"))
        let created = try store.create(StreamRecord(id: Identifier.make(), name: "n", lastUpdate: "1"))
        #expect(try recorded.listForRefresh().map(\.id) == [created.id])
        #expect(try recorded.list(limit: nil, after: nil).records.map(\.id) == [created.id])
        let scans = recording.requests.filter { $0.headers.contains { $0.0 == "X-Amz-Target" && $0.1.hasSuffix(".Scan") } }
            .map { String(decoding: $0.body, as: UTF8.self) }
        #expect(scans.count == 2 && scans[0].contains(#""ConsistentRead":false"#) && scans[1].contains(#""ConsistentRead":true"#))
    }
}
