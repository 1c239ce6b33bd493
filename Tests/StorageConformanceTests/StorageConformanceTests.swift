import AWSClient
import AWSTestSupport
@testable import DynamoDBStorage
import FileStorage
import Foundation
import LivestreamCore
import Logging
import Testing

/// One store of each kind, fresh, with a way to write an item as another program left it.
struct StoreUnderTest: Sendable, CustomStringConvertible {
    let description: String
    let store: any StreamStore
    /// Writes an item in the store's own stored form, bypassing the store (what old code or another version left).
    let putRaw: @Sendable ([String: JSONValue]) throws -> Void
    /// Keeps what the store needs alive (moto_server) for the test's duration.
    let keepAlive: (any Sendable)?

    enum Kind: String, CaseIterable, Sendable {
        case memory, file, dynamodb
    }

    static func make(_ kind: Kind) throws -> StoreUnderTest {
        switch kind {
        case .memory:
            let store = MemoryStreamStore()
            return StoreUnderTest(description: "memory", store: store, putRaw: { fields in
                // The reference store keeps records, so an odd item enters as the record it reads as.
                _ = try store.create(try StreamRecord(apiObject: fields, version: 0))
            }, keepAlive: nil)
        case .file:
            let directory = NSTemporaryDirectory() + "conformance-" + Identifier.make()
            let store = try FileStreamStore(directory: directory, logger: Logger(label: "test"))
            return StoreUnderTest(description: "file", store: store, putRaw: { fields in
                let id = fields["id"]?.stringValue ?? "missing"
                let document: JSONValue = ["format": "livestreamd.stream/1", "version": 1, "record": .object(fields), "media": [:]]
                try Data(document.serialized()).write(to: URL(fileURLWithPath: "\(directory)/\(id).json"))
            }, keepAlive: nil)
        case .dynamodb:
            let moto = try MotoServer()
            let (key, secret) = try moto.makeAccessKey()
            let dynamodb = moto.service("dynamodb", key: key, secret: secret)
            let table = #"{"TableName":"streams","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#
            _ = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "CreateTable", body: Array(table.utf8))
            let store = DynamoDBStreamStore(table: "streams", dynamodb: dynamodb, logger: Logger(label: "test"))
            return StoreUnderTest(description: "dynamodb", store: store, putRaw: { fields in
                let item = JSONValue.object(["TableName": "streams", "Item": .object(fields.mapValues(AttributeValue.encode))])
                _ = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "PutItem", body: item.serialized())
            }, keepAlive: moto)
        }
    }
}

/// What every `StreamStore` must do, run against the memory (reference), file and dynamodb stores.
struct StorageConformanceTests {
    func record(_ name: String = "n") -> StreamRecord {
        StreamRecord(id: Identifier.make(), name: name, lastUpdate: "1")
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func createGetReplaceDeleteWithCompareAndSet(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        let store = subject.store
        var fresh = record()
        fresh.extra = ["team": ["a": [1, 2.5, nil, true]]]
        fresh.archivesPath = ["s": "s3://bucket/x/"]
        fresh.ssmPaths = ["/Medialive_api/u1"]
        let created = try store.create(fresh)
        #expect(created.version == 1)
        #expect(try store.get(id: fresh.id) == created)
        #expect { try store.create(fresh) } throws: { ($0 as? ServiceError)?.code == "already_exists" }

        var changed = created
        changed.name = "m"
        changed.mediaState = ["publishers": ["1": "7"]]
        let replaced = try store.replace(changed)
        #expect(replaced.version == 2)
        #expect(try store.get(id: fresh.id) == replaced)
        #expect { try store.replace(changed) } throws: { ($0 as? ServiceError)?.code == "version_conflict" }
        #expect { try store.delete(created) } throws: { ($0 as? ServiceError)?.code == "version_conflict" }
        let updated = try store.update(id: fresh.id, attempts: 3) { $0.description = "via update" }
        #expect(updated?.description == "via update" && updated?.version == 3)
        try store.delete(try #require(updated))
        #expect(try store.get(id: fresh.id) == nil)
        #expect { try store.replace(replaced) } throws: { ($0 as? ServiceError)?.code == "stream_not_found" }
        #expect(try store.update(id: fresh.id, attempts: 3) { $0.name = "x" } == nil)
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func listingsAreSortedAndPagesGiveEveryRecordOnce(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        let store = subject.store
        let ids = try (0..<7).map { _ in try store.create(record()).id }.sorted()
        let all = try store.list(limit: nil, after: nil)
        #expect(all.records.map(\.id) == ids && all.nextToken == nil)
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try store.list(limit: 3, after: token)
            #expect(page.records.count <= 3)
            seen += page.records.map(\.id)
            token = page.nextToken
            pages += 1
        } while token != nil && pages < 10
        #expect(seen.sorted() == ids && seen.count == ids.count)
        #expect { try store.list(limit: 3, after: "../etc") } throws: { ($0 as? ServiceError)?.kind == .badRequest }
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func oddOldItemsAreListedReadAndDeletable(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        let store = subject.store
        // The old deployment's phantom item (its DELETE /live on an unknown id), and an item with odd types.
        try subject.putRaw(["id": "phantom stream", "cloudfront_associated": false])
        let odd = Identifier.make()
        try subject.putRaw(["id": .string(odd), "name": 42, "started": "false", "segment_length": "120", "archives_path": "none", "last_update": "1700000000"])
        let listed = try store.list(limit: nil, after: nil).records
        #expect(listed.map(\.id) == [odd, "phantom stream"].sorted())
        let read = try #require(try store.get(id: odd))
        #expect(read.name == "42" && !read.started && read.segmentLength == 120 && read.archivesPath.isEmpty)
        #expect(read.problems.count == 1 && read.problems[0].hasPrefix("archives_path"))
        let phantom = try #require(try store.get(id: "phantom stream"))
        #expect(phantom.problems.isEmpty && !phantom.cloudfrontAssociated)
        // A write settles the odd item into the store's own form; then it goes like any other.
        let repaired = try #require(try store.update(id: odd, attempts: 3) { $0.name = "fixed" })
        #expect(repaired.problems.isEmpty)
        #expect(try store.get(id: odd)?.name == "fixed")
        try store.delete(repaired)
        try store.delete(phantom)
        #expect(try store.list(limit: nil, after: nil).records.isEmpty)
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func cleanupJournalKeepsOrderAndStaysOutOfListings(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        let store = subject.store
        let stream = try store.create(record())
        let first = PendingCleanup(owner: "medialive", streamId: stream.id, work: [["kind": "channel", "id": "7"]], createdAt: 20)
        var second = PendingCleanup(owner: "medialive", streamId: stream.id, work: [], createdAt: 10)
        try store.cleanups.save(first)
        try store.cleanups.save(second)
        second.attempts = 2
        try store.cleanups.save(second)
        #expect(try store.cleanups.pending() == [second, first], "oldest first, replaced in place")
        #expect(try store.list(limit: nil, after: nil).records.map(\.id) == [stream.id])
        #expect(store.problems.isEmpty)
        try store.cleanups.finish(id: first.id)
        try store.cleanups.finish(id: first.id)
        #expect(try store.cleanups.pending() == [second])
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func sessionTimesAreKeptWithTheRecord(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        var stored = try subject.store.create(record())
        stored.archivesPath = ["a": "file:///x/"]
        stored.sessionTimes = ["a": SessionTimes(started: "10", stopped: "20"), "b": SessionTimes(started: "30")]
        let replaced = try subject.store.replace(stored)
        #expect(try subject.store.get(id: stored.id)?.sessionTimes == replaced.sessionTimes)
        #expect(replaced.sessionTimes["a"]?.stopped == "20" && replaced.extra.isEmpty)
    }

    @Test(arguments: StoreUnderTest.Kind.allCases)
    func eventCursorsAreComparedAndSetAndStayOutOfTheFeed(_ kind: StoreUnderTest.Kind) throws {
        let subject = try StoreUnderTest.make(kind)
        defer { withExtendedLifetime(subject) {} }
        let journal = try #require(subject.store.events)
        #expect(try journal.latestSequence() == 0 && journal.cursor("webhook-x") == nil)
        #expect(try journal.storeCursor("webhook-x", value: ["after": 0], replacing: nil))
        #expect(try !journal.storeCursor("webhook-x", value: ["after": 9], replacing: nil), "a second first write loses")
        #expect(try journal.cursor("webhook-x") == StoredCursor(value: ["after": 0], version: 1))
        #expect(try journal.storeCursor("webhook-x", value: ["after": 2], replacing: 1))
        #expect(try !journal.storeCursor("webhook-x", value: ["after": 3], replacing: 1), "a stale version loses")
        #expect(try journal.cursor("webhook-x") == StoredCursor(value: ["after": 2], version: 2))
        #expect(try journal.cursor("webhook-y") == nil)
        let appended = try journal.append(NewEvent(streamId: "s", type: .created, at: EventClock.nowMilliseconds()))
        #expect(try journal.latestSequence() == appended.sequence)
        #expect(try journal.feed(after: 0, limit: 10) == [appended], "cursors are no events")
    }
}
