import AWSClient
import AWSTestSupport
@testable import DynamoDBStorage
import Foundation
import LivestreamCore
import Logging
import Synchronization
import Testing

/// The dynamodb event journal against moto_server (signature checking on).
struct DynamoDBEventJournalTests {
    let moto: MotoServer
    let dynamodb: AWSService
    let now = EventClock.nowMilliseconds()

    init() throws {
        moto = try MotoServer()
        let key = try moto.makeAccessKey()
        dynamodb = moto.service("dynamodb", key: key.0, secret: key.1)
    }

    /// A store as another process would open it (its own table checks and prune schedule).
    func store() -> DynamoDBStreamStore {
        DynamoDBStreamStore(table: "MedialiveApiStorage", dynamodb: dynamodb, logger: Logger(label: "test"))
    }

    func raw(_ operation: String, _ request: String) throws -> JSONValue {
        try JSONValue.parse(try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: operation, body: Array(request.utf8)))
    }

    @Test func twoProcessesNeverHandOutTheSameNumberAndTheTableIsMadeOnFirstUse() throws {
        let journals = [try #require(store().events), try #require(store().events)]
        let streams = [Identifier.make(), Identifier.make()]
        // The table is made by the first use, before the processes race: moto's CreateTable is not atomic (a second
        // one running at the same time replaces the table, counter item and all), DynamoDB's is.
        #expect(try journals[0].latestSequence() == 0)
        let appended = Mutex<[Int64]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for n in 0..<10 {
                let event = try! journals[worker % 2].append(NewEvent(streamId: streams[n % 2], type: .updated, at: now, data: ["n": .int(Int64(n))]))
                appended.withLock { $0.append(event.sequence) }
            }
        }
        let numbers = appended.withLock { $0 }
        #expect(Set(numbers).count == 40 && numbers.max() == 40)
        #expect(try journals[1].feed(after: 0, limit: 1000).map(\.sequence) == Array(1...40))
        #expect(try journals[0].feed(after: 30, limit: 5).map(\.sequence) == Array(31...35))
        let first = try journals[0].events(of: streams[0], after: 0, limit: 1000)
        #expect(first.count == 20 && first.allSatisfy { $0.streamId == streams[0] } && first.map(\.sequence) == first.map(\.sequence).sorted())
        // The default table, with its feed index and TTL; the counter item stays out of the feed.
        let table = try raw("DescribeTable", #"{"TableName":"MedialiveApiStorage-livestreamd-events"}"#)
        #expect(table.objectValue?["Table"]?.objectValue?["GlobalSecondaryIndexes"]?.arrayValue?.first?.objectValue?["IndexName"] == "feed")
        let ttl = try raw("DescribeTimeToLive", #"{"TableName":"MedialiveApiStorage-livestreamd-events"}"#)
        #expect(ttl.objectValue?["TimeToLiveDescription"]?.objectValue?["AttributeName"] == "expires_at")
    }

    @Test func theFeedWaitsAtAYoungGapAndPassesAnOldOne() throws {
        let store = store()
        let stream = Identifier.make()
        let journal = try #require(store.events)
        for _ in 0..<3 { try journal.append(NewEvent(streamId: stream, type: .updated, at: now)) }
        // Event 2 not (yet) in the index: as if its put were still on its way.
        _ = try raw("DeleteItem", #"{"TableName":"MedialiveApiStorage-livestreamd-events","Key":{"stream_id":{"S":"\#(stream)"},"sequence":{"N":"2"}}}"#)
        #expect(try journal.feed(after: 0, limit: 10).map(\.sequence) == [1])
        let later = DynamoDBEventJournal(store: store, table: nil, retention: .seconds(86400), shared: .init(), now: { now + 10_000 })
        #expect(try later.feed(after: 0, limit: 10).map(\.sequence) == [1, 3], "a gap older than the settle time is for good (a failed append)")
    }

    @Test func expiredEventsAreLeftOutAndPruned() throws {
        let store = store()
        let stream = Identifier.make()
        let journal = DynamoDBEventJournal(store: store, table: nil, retention: .seconds(3600), shared: .init(), now: { now })
        try journal.append(NewEvent(streamId: stream, type: .created, at: now - 7_200_000))
        try journal.append(NewEvent(streamId: stream, type: .updated, at: now - 60_000))
        #expect(try journal.events(of: stream, after: 0, limit: 10).map(\.type) == [.updated])
        try journal.prune(before: now - 3_600_000)
        let left = try raw("Query", #"{"TableName":"MedialiveApiStorage-livestreamd-events","KeyConditionExpression":"stream_id = :s","ExpressionAttributeValues":{":s":{"S":"\#(stream)"}}}"#)
        #expect(left.objectValue?["Count"] == 1)
    }

    @Test func aNamedTableMustExist() throws {
        let store = DynamoDBStreamStore(table: "MedialiveApiStorage", dynamodb: dynamodb, logger: Logger(label: "test"), eventsTable: "missing-events")
        #expect { try store.events?.append(NewEvent(streamId: "s", type: .created, at: now)) } throws: {
            ($0 as? ServiceError)?.message.contains("storage.dynamodb.events_table") == true
        }
    }
}
