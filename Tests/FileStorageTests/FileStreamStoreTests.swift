import FileStorage
import Foundation
import LivestreamCore
import Logging
import Testing

struct FileStreamStoreTests {
    let directory: String
    let store: FileStreamStore

    init() throws {
        directory = NSTemporaryDirectory() + "filestore-" + Identifier.make()
        store = try FileStreamStore(directory: directory, logger: Logger(label: "test"))
    }

    func record(_ name: String = "n") -> StreamRecord {
        StreamRecord(id: Identifier.make(), name: name, lastUpdate: "1")
    }

    @Test func reopeningSweepsOldTemporaryFilesOfUnfinishedWrites() throws {
        let stale = directory + "/.tmp-0123456789abcdef"
        let fresh = directory + "/.tmp-fedcba9876543210"
        let staleInJournal = directory + "/.cleanups/.tmp-00112233aabbccdd"
        for path in [stale, fresh, staleInJournal] { #expect(FileManager.default.createFile(atPath: path, contents: Data("{".utf8))) }
        for path in [stale, staleInJournal] {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
        }
        _ = try FileStreamStore(directory: directory, logger: Logger(label: "test"))
        #expect(!FileManager.default.fileExists(atPath: stale) && !FileManager.default.fileExists(atPath: staleInJournal))
        #expect(FileManager.default.fileExists(atPath: fresh), "a young one may be another process's write in progress")
    }

    /// The journal's behaviour is in the storage conformance suite; this is its survival on disk.
    @Test func cleanupJournalSurvivesReopening() throws {
        let cleanup = PendingCleanup(owner: "medialive", streamId: Identifier.make(), work: [["kind": "input", "id": "42"]], createdAt: 10, attempts: 3, lastError: "Throttled")
        try store.cleanups.save(cleanup)
        let reopened = try FileStreamStore(directory: directory, logger: Logger(label: "test"))
        #expect(try reopened.cleanups.pending() == [cleanup])
    }

    @Test func documentsAreTheContractRecordInAnEnvelope() throws {
        let created = try store.create(record("doc"))
        let data = try #require(FileManager.default.contents(atPath: "\(directory)/\(created.id).json"))
        let document = try JSONValue.parse(data).objectValue!
        #expect(document["format"] == "livestreamd.stream/1" && document["version"] == 1)
        #expect(document["record"] == created.apiObject)
    }

    @Test func listsInPagesAndSkipsForeignOrCorruptFiles() throws {
        let ids = try (0..<5).map { _ in try store.create(record()).id }.sorted()
        let corrupt = Identifier.make()
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/\(corrupt).json"))
        let foreign = Identifier.make()
        try Data(#"{"id":"x"}"#.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(foreign).json"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: "\(directory)/notes.txt"))

        let all = try store.list(limit: nil, after: nil)
        #expect(all.records.map(\.id) == ids && all.nextToken == nil)
        #expect(Set(store.problems.map(\.location)) == ["\(corrupt).json", "\(foreign).json", "notes.txt"])

        var seen: [String] = []
        var token: String?
        repeat {
            let page = try store.list(limit: 2, after: token)
            #expect(page.records.count <= 2)
            seen += page.records.map(\.id)
            token = page.nextToken
        } while token != nil
        #expect(seen == ids)
        #expect(throws: ServiceError.self) { try store.list(limit: 2, after: "../etc") }
        #expect { try store.get(id: corrupt) } throws: { ($0 as? ServiceError)?.kind == .internal }
    }

    @Test func twoProcessesHammeringOneStreamLoseNoUpdate() throws {
        var seed = record()
        seed.extra["count"] = 0
        let created = try store.create(seed)
        let hammer = try Self.hammerPath()
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: hammer)
            process.arguments = [directory, created.id, "150", "3"]
            try process.run()
            return process
        }
        for process in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let final = try #require(try store.get(id: created.id))
        #expect(final.extra["count"] == .int(300))
        #expect(final.version == 301)
    }

    @Test func cachedReadsSeeWritesFromAnotherStoreThroughTheWatch() throws {
        #expect(store.isWatched)
        let other = try FileStreamStore(directory: directory, logger: Logger(label: "other"))
        let created = try store.create(record("before"))
        #expect(try store.get(id: created.id)?.name == "before")
        let cachedRevision = try store.list(limit: nil, after: nil).revision
        #expect(cachedRevision != nil, "a watched listing is cached at once")

        var changed = try #require(try other.get(id: created.id))
        changed.name = "after"
        _ = try other.replace(changed)
        // Another process's change arrives through inotify, on the watch's thread.
        #expect(try eventually { try store.get(id: created.id)?.name == "after" })
        let page = try store.list(limit: nil, after: nil)
        #expect(page.records.map(\.name) == ["after"] && page.revision != cachedRevision)

        try other.delete(try #require(try other.get(id: created.id)))
        #expect(try eventually { try store.get(id: created.id) == nil })
        #expect(try store.list(limit: nil, after: nil).records.isEmpty)
    }

    @Test func ownWritesAreSeenAtOnceAndStaleCopiesConflict() throws {
        let other = try FileStreamStore(directory: directory, logger: Logger(label: "other"))
        let created = try store.create(record("one"))
        var first = try #require(try store.get(id: created.id))
        first.name = "two"
        _ = try store.replace(first)
        #expect(try store.get(id: created.id)?.name == "two", "no wait for the watch after a write of our own")
        // A write through a stale copy is refused, and the refusal drops the stale copy.
        var stale = try #require(try other.get(id: created.id))
        var fresh = stale
        fresh.name = "three"
        _ = try store.replace(fresh)
        stale.name = "lost"
        #expect(throws: ServiceError.versionConflict(created.id)) { try other.replace(stale) }
        #expect(try other.get(id: created.id)?.name == "three")
    }

    @Test func withoutTheWatchCachedReadsCompareStamps() throws {
        let unwatched = try FileStreamStore(directory: directory, logger: Logger(label: "stamps"), watchDirectory: false)
        #expect(!unwatched.isWatched)
        let created = try store.create(record("before"))
        Thread.sleep(forTimeInterval: 2.1)  // settled: now eligible for the caches
        #expect(try unwatched.get(id: created.id)?.name == "before")
        let cachedRevision = try unwatched.list(limit: nil, after: nil).revision
        #expect(cachedRevision != nil)
        var changed = try #require(try store.get(id: created.id))
        changed.name = "after"
        _ = try store.replace(changed)
        #expect(try unwatched.get(id: created.id)?.name == "after")
        let page = try unwatched.list(limit: nil, after: nil)
        #expect(page.records.map(\.name) == ["after"] && page.revision != cachedRevision)
    }

    /// Polls `condition` for up to two seconds.
    private func eventually(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return try condition()
    }

    /// StoreHammer is built beside the test bundle.
    static func hammerPath() throws -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("StoreHammer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/StoreHammer").path
        guard FileManager.default.isExecutableFile(atPath: fallback) else { throw ServiceError.internal("StoreHammer is not built") }
        return fallback
    }
}
