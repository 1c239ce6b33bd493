import FileStorage
import Foundation
import LivestreamCore
import Logging
import Synchronization
import Testing

struct FileEventJournalTests {
    let directory = NSTemporaryDirectory() + "events-" + Identifier.make()
    /// Within the retention: the first append of a journal prunes what is older.
    let now = EventClock.nowMilliseconds()

    func journal() throws -> any EventJournal {
        try #require(try FileStreamStore(directory: directory, logger: Logger(label: "test"), watchDirectory: false).events)
    }

    @Test func twoStoresOnOneDirectoryNeverHandOutTheSameNumber() throws {
        // Two store objects stand for two processes: each has its own descriptors and read caches.
        let journals = [try journal(), try journal()]
        let streams = (0..<4).map { _ in Identifier.make() }
        let appended = Mutex<[StreamEvent]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for n in 0..<25 {
                let event = try! journals[worker % 2].append(NewEvent(streamId: streams[(worker + n) % 4], type: .updated, at: now + Int64(n)))
                appended.withLock { $0.append(event) }
            }
        }
        let numbers = appended.withLock { $0.map(\.sequence) }
        #expect(Set(numbers).count == 200 && numbers.min() == 1 && numbers.max() == 200)
        // Either store reads what both wrote, each stream's journal in order, the feed in one order.
        for reader in journals {
            let feed = try reader.feed(after: 0, limit: 1000)
            #expect(feed.map(\.sequence) == Array(1...200))
            for stream in streams {
                let events = try reader.events(of: stream, after: 0, limit: 1000)
                #expect(events.count == 50 && events.map(\.sequence) == events.map(\.sequence).sorted())
            }
        }
        // Paging: after and limit.
        let page = try journals[0].feed(after: 150, limit: 20)
        #expect(page.map(\.sequence) == Array(151...170))
    }

    @Test func aLineCutByACrashIsSkippedAndTheNextAppendIsWhole() throws {
        let journal = try journal()
        let stream = Identifier.make()
        try journal.append(NewEvent(streamId: stream, type: .created, at: now))
        // A crash mid-append: half a line, no newline.
        let file = try #require(FileHandle(forWritingAtPath: directory + "/.events/\(stream).jsonl"))
        file.seekToEndOfFile()
        file.write(Data("{\"sequence\":2,\"id\":\"evt_".utf8))
        try file.close()
        let next = try journal.append(NewEvent(streamId: stream, type: .started, at: now, data: ["session_id": "s"]))
        let read = try journal.events(of: stream, after: 0, limit: 10)
        #expect(read.map(\.type) == [.created, .started] && read.last == next && next.data["session_id"] == "s")
    }

    @Test func theFirstAppendPrunesWhatIsPastTheRetention() throws {
        let journal = try journal()
        let stream = Identifier.make()
        // Written by an older process (the journal prunes once an hour, with an append).
        let line = StreamEvent(sequence: 1, id: "evt_" + Identifier.make(), streamId: stream, type: .created, at: now - 31 * 86_400_000, data: [:])
        try FileManager.default.createDirectory(atPath: directory + "/.events", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory + "/.events/\(stream).jsonl", contents: Data(line.jsonValue.serialized() + [10])))
        #expect(try journal.events(of: stream, after: 0, limit: 10).count == 1)
        try journal.append(NewEvent(streamId: Identifier.make(), type: .created, at: now))
        #expect(try journal.events(of: stream, after: 0, limit: 10).isEmpty)
    }

    @Test func pruneDropsOldEventsAndEmptyJournals() throws {
        let journal = try journal()
        let (old, mixed) = (Identifier.make(), Identifier.make())
        try journal.append(NewEvent(streamId: old, type: .created, at: now - 900))
        try journal.append(NewEvent(streamId: mixed, type: .created, at: now - 900))
        try journal.append(NewEvent(streamId: mixed, type: .deleted, at: now - 100))
        try journal.prune(before: now - 500)
        #expect(try journal.events(of: old, after: 0, limit: 10).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/.events/\(old).jsonl"))
        #expect(try journal.events(of: mixed, after: 0, limit: 10).map(\.type) == [.deleted])
        // Numbers go on after a prune.
        #expect(try journal.append(NewEvent(streamId: mixed, type: .updated, at: now)).sequence == 4)
    }
}
