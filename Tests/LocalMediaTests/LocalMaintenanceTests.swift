@testable import LocalMedia
import Foundation
import LivestreamCore
import Logging
import Testing

struct LocalMaintenanceTests {
    let root = NSTemporaryDirectory() + "local-maintenance-" + Identifier.make()
    let liveness = PublisherLiveness(updateInterval: .seconds(2))

    func folder(_ path: String, files: [String] = [], age: TimeInterval) throws -> String {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        let when = Date().addingTimeInterval(-age)
        for name in files {
            FileManager.default.createFile(atPath: full + "/" + name, contents: Data())
            try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: full + "/" + name)
        }
        try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: full)
        return full
    }

    func record(started: Bool, publishers: [Int: String] = [:], archive: String? = nil) -> StreamRecord {
        var record = StreamRecord(id: Identifier.make(), name: "n", segmentLength: 4, lastUpdate: "1")
        record.started = started
        var state = Publishers([:])
        state.clients = publishers
        state.store(into: &record)
        if let archive {
            record.currentSessionId = "s"
            record.archivesPath = ["s": "file://" + archive + "/"]
        }
        return record
    }

    @Test func liveFoldersOfStoppedStreamsGoOnceUntouchedForTheKeepTime() throws {
        let stopped = record(started: false)
        let live = record(started: true)
        let fresh = record(started: false)
        _ = try folder("hls/\(stopped.id)", files: ["index.m3u8"], age: 7200)
        _ = try folder("hls/\(stopped.id)-backup", files: ["index.m3u8"], age: 7200)
        _ = try folder("hls/\(live.id)", files: ["index.m3u8"], age: 7200)
        _ = try folder("hls/\(fresh.id)", files: ["index.m3u8"], age: 10)
        _ = try folder("hls/not-a-stream", age: 7200)
        let folders = LiveFolders(directory: root + "/hls")
        let stale = folders.staleFolders(of: [stopped, live, fresh], olderThan: .seconds(3600))
        #expect(Set(stale) == [stopped.id, stopped.id + "-backup"])
        for name in stale { folders.removeFolder(named: name) }
        #expect(!FileManager.default.fileExists(atPath: root + "/hls/" + stopped.id))
        #expect(FileManager.default.fileExists(atPath: root + "/hls/" + live.id))
        #expect(FileManager.default.fileExists(atPath: root + "/hls/not-a-stream"))
    }

    @Test func aPublishingStreamWithoutNewSegmentsIsStalled() throws {
        let stalledFolder = try folder("archive/a", files: ["_1-x.000001.ts", "_2-x.000001.ts"], age: 60)
        let stalled = record(started: true, publishers: [1: "c1"], archive: stalledFolder)
        let healthyFolder = try folder("archive/b", files: ["_1-x.000001.ts"], age: 1)
        let healthy = record(started: true, publishers: [1: "c2"], archive: healthyFolder)
        let newcomer = record(started: true, publishers: [1: "c3"], archive: try folder("archive/c", age: 60))
        liveness.accepted("c1", at: Date().addingTimeInterval(-120))
        liveness.accepted("c2", at: Date().addingTimeInterval(-120))
        liveness.accepted("c3", at: Date().addingTimeInterval(-3))
        let maintenance = LocalMaintenance(
            store: MemoryStreamStore(), folders: LiveFolders(directory: nil), liveness: liveness, keep: .seconds(3600), logger: Logger(label: "test"))
        let found = maintenance.stalledArchives([stalled, healthy, newcomer])
        #expect(found.map(\.0) == [stalled.id] && found.map(\.1) == [1])
    }
}
