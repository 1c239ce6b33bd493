@testable import LocalMedia
import Foundation
import LivestreamCore
import Logging
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    /// Wall-clock seconds, starting at the test streams' session start.
    private let epoch = Mutex(1_732_500_000.0)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    var epochSeconds: Double { epoch.withLock { $0 } }
    func advance(_ duration: Duration) {
        instant.withLock { $0 += duration }
        epoch.withLock { $0 += Double(duration.components.seconds) }
    }
}

/// nginx-rtmp's stat page as a test sets it.
final class StatPage: Sendable {
    private let clients = Mutex<Set<String>?>(nil)
    func withLock<T>(_ body: (inout Set<String>?) -> T) -> T { clients.withLock { body(&$0) } }
}

struct LocalMediaHookTests {
    let store = MemoryStreamStore()
    let archive = MemoryArchiveStore()
    let clock = ManualClock()
    let media: LocalMediaPipeline

    /// What nginx-rtmp's stat page lists as publishing (nil: unreachable).
    let listed = StatPage()

    init() {
        let clock = self.clock
        let listed = self.listed
        media = LocalMediaPipeline(
            settings: .init(rtmpURL: "rtmp://127.0.0.1:1935/", ingestApp: "live", hlsURL: "http://h/hls/", controlURL: "http://127.0.0.1:9/control"),
            store: store, archive: archive, logger: Logger(label: "test"), stopConfirmation: .zero, clock: { clock.now },
            wallClock: { clock.epochSeconds }, nginxPublishers: { listed.withLock { $0 } })
    }

    func stream(started: Bool) throws -> StreamRecord {
        let id = Identifier.make()
        let resources = try media.create(streamId: id, name: "n", description: "", segmentLength: 4)
        var record = StreamRecord(id: id, name: "n", segmentLength: 4, lastUpdate: "1")
        record.rtmp1 = resources.rtmp1
        record.rtmp2 = resources.rtmp2
        record.started = started
        record.lastStarted = "1732500000"
        record.currentSessionId = "s"
        record.archivesPath = ["s": "file:///tmp/archive/x/"]
        return try store.create(record)
    }

    func call(_ path: String, _ fields: [String: String]) throws -> InternalResponse {
        try media.internalEndpoints.first { $0.path == path }!.handle(InternalRequest(fields: fields))
    }

    @Test func ingestURLsCarryAPerPipelineKeyAndViewersTheId() throws {
        let resources = try media.create(streamId: "0123456789abcdef0123456789abcdef", name: "n", description: "", segmentLength: 4)
        #expect(resources.rtmp1.hasPrefix("rtmp://127.0.0.1:1935/live/0123456789abcdef0123456789abcdef_"))
        #expect(resources.rtmp1 != resources.rtmp2)
        #expect(resources.viewerEndpoint == "http://h/hls/0123456789abcdef0123456789abcdef/index.m3u8")
    }

    @Test func publishRenamesToThePublicNameOfThePipeline() throws {
        let record = try stream(started: true)
        let primary = try call("rtmp/publish", ["app": "live", "name": IngestKey.key(inURL: record.rtmp1), "clientid": "7"])
        #expect(primary == InternalResponse(status: 302, headers: [("Location", record.id)]))
        let backup = try call("rtmp/publish", ["app": "live", "name": IngestKey.key(inURL: record.rtmp2), "clientid": "8"])
        #expect(backup.headers.first?.1 == record.id + "-backup")
        #expect(Publishers(try store.get(id: record.id)!.mediaState).clients == [1: "7", 2: "8"])
    }

    @Test func publishRefusesWrongKeysStoppedStreamsAndSecondPublishers() throws {
        let stopped = try stream(started: false)
        #expect(try call("rtmp/publish", ["app": "live", "name": IngestKey.key(inURL: stopped.rtmp1), "clientid": "1"]).status == 403)
        let record = try stream(started: true)
        let key = IngestKey.key(inURL: record.rtmp1)
        #expect(try call("rtmp/publish", ["app": "live", "name": record.id + "_" + String(repeating: "0", count: 32), "clientid": "1"]).status == 403)
        #expect(try call("rtmp/publish", ["app": "live", "name": "garbage", "clientid": "1"]).status == 403)
        #expect(try call("rtmp/publish", ["app": "other", "name": key, "clientid": "1"]).status == 403)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "1"]).status == 302)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "2"]).status == 403, "one publisher per pipeline")
        #expect(try call("rtmp/publish_done", ["name": key, "clientid": "1"]).status == 200)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "3"]).status == 302, "free again after publish_done")
    }

    @Test func aSlotWhosePublisherStoppedReportingIsFreed() throws {
        let record = try stream(started: true)
        let key = IngestKey.key(inURL: record.rtmp1)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "1"]).status == 302)
        clock.advance(.seconds(5))
        #expect(try call("rtmp/update", ["call": "update_publish", "name": key, "clientid": "1"]).status == 200)
        clock.advance(.seconds(5))
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "2"]).status == 403, "client 1 reported 5 s ago")
        // Its on_publish_done was lost: after three silent update intervals the slot is free.
        clock.advance(.seconds(2))
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "2"]).status == 302)
        #expect(Publishers(try store.get(id: record.id)!.mediaState).clients == [1: "2"])
        // If the old publisher was alive after all, its next update drops it.
        #expect(try call("rtmp/update", ["call": "update_publish", "name": key, "clientid": "1"]).status == 403)
    }

    @Test func viewersGetTheBackupOnlyWhileThePrimaryHasNoLiveEncoder() throws {
        let record = try stream(started: true)
        let primaryKey = IngestKey.key(inURL: record.rtmp1)
        let backupKey = IngestKey.key(inURL: record.rtmp2)
        #expect(try call("rtmp/failover", ["name": record.id + "-backup"]).status == 403, "no backup encoder yet")
        #expect(try call("rtmp/publish", ["app": "live", "name": primaryKey, "clientid": "1"]).status == 302)
        #expect(try call("rtmp/publish", ["app": "live", "name": backupKey, "clientid": "2"]).status == 302)
        #expect(try store.get(id: record.id)!.publishing == [1, 2])
        // nginx's control is unreachable here: no backup relay to take the name back from.
        #expect(try call("rtmp/failover", ["name": record.id]).status == 200)
        #expect(try call("rtmp/failover", ["name": record.id + "-backup"]).status == 403, "the primary publishes")
        #expect(try call("rtmp/publish_done", ["name": primaryKey, "clientid": "1"]).status == 200)
        #expect(try store.get(id: record.id)!.publishing == [2])
        #expect(try call("rtmp/failover", ["name": record.id + "-backup"]) == InternalResponse(status: 302, headers: [("Location", record.id)]))
        #expect(try call("rtmp/relay", ["name": record.id]).status == 200)
        #expect(try call("rtmp/relay", ["name": record.id + "-backup"]).status == 403, "live HLS is published under the stream id only")
        // A primary whose publish_done was lost counts as gone once it stops reporting.
        #expect(try call("rtmp/publish", ["app": "live", "name": primaryKey, "clientid": "3"]).status == 302)
        #expect(try call("rtmp/failover", ["name": record.id + "-backup"]).status == 403)
        clock.advance(.seconds(7))
        #expect(try call("rtmp/failover", ["name": record.id + "-backup"]).status == 302)
    }

    @Test func finishedSegmentsOfTheCurrentSessionAreCounted() throws {
        let record = try stream(started: true)
        let prefix = "_2-" + ArchivePath.compactTimestamp(epochSeconds: 1_732_500_000)
        #expect(try call("rtmp/archive_segment", ["name": record.id + "-backup", "file": prefix + ".000001.ts"]).status == 200)
        #expect(try call("rtmp/archive_segment", ["name": record.id + "-backup", "file": prefix + ".000002.ts"]).status == 200)
        #expect(try call("rtmp/archive_segment", ["name": record.id, "file": prefix + ".000003.ts"]).status == 409, "pipeline 1 names its files _1-")
        #expect(try call("rtmp/archive_segment", ["name": record.id + "-backup", "file": "_2-20200101T000000.000001.ts"]).status == 409, "another session")
        #expect(try call("rtmp/archive_segment", ["name": "nonsense", "file": prefix + ".000001.ts"]).status == 404)
        let counted = try #require(try store.get(id: record.id))
        #expect(counted.archiveSegments == 2 && counted.archiveLastSegmentAt == String(Int64(clock.epochSeconds)))
    }

    @Test func aBusySlotIsFreedWhenNginxNoLongerListsItsPublisher() throws {
        let record = try stream(started: true)
        let key = IngestKey.key(inURL: record.rtmp1)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "1"]).status == 302)
        clock.advance(.seconds(4))
        listed.withLock { $0 = ["1"] }
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "2"]).status == 403, "nginx still has client 1")
        clock.advance(.seconds(4))
        listed.withLock { $0 = [] }
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "2"]).status == 302, "gone from nginx, silent for 4 s")
    }

    @Test func aStopNginxCannotConfirmSaysStoppingUntilThePublisherIsGone() throws {
        var record = try stream(started: true)
        let key = IngestKey.key(inURL: record.rtmp2)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "4"]).status == 302)
        record = try #require(try store.update(id: record.id) { $0.started = false })
        // Control is unreachable here and the publisher stays: the stop cannot be confirmed.
        let status = try media.stop(record)
        #expect(status.state == LocalMediaPipeline.stoppingState)
        record = try #require(try store.update(id: record.id) { $0.state = status.state })
        #expect(try call("rtmp/publish_done", ["name": key, "clientid": "4"]).status == 200)
        let done = try #require(try store.get(id: record.id))
        #expect(done.state == StreamRecord.idleState && done.publishing == [])
    }

    @Test func updatesDropPublishersAndPlayersOfStoppedStreams() throws {
        var record = try stream(started: true)
        let key = IngestKey.key(inURL: record.rtmp2)
        #expect(try call("rtmp/publish", ["app": "live", "name": key, "clientid": "4"]).status == 302)
        #expect(try call("rtmp/update", ["call": "update_publish", "name": key, "clientid": "4"]).status == 200)
        #expect(try call("rtmp/update", ["call": "update_play", "name": record.id + "-backup", "clientid": "9"]).status == 200)
        #expect(try call("rtmp/update", ["call": "update_publish", "name": "garbage", "clientid": "5"]).status == 403)
        record = try #require(try store.get(id: record.id))
        record.started = false
        _ = try store.replace(record)
        #expect(try call("rtmp/update", ["call": "update_publish", "name": key, "clientid": "4"]).status == 403)
        #expect(try call("rtmp/update", ["call": "update_play", "name": record.id + "-backup", "clientid": "9"]).status == 403)
    }

    @Test func aLatePipelineNumbersItsSegmentsByWallClock() throws {
        let record = try stream(started: true)
        let root = record.archivesPath["s"]!
        // The backup's archiver starts 10 s into the session (4-s segments): slot 3, [8, 12).
        clock.advance(.seconds(10))
        #expect(try call("rtmp/archive", ["name": record.id + "-backup"]).body == "/tmp/archive/x/\n_2-20241125T020000\n3\n4\n\n")
        // A restart never goes back behind what is there.
        archive.addSegments([ArchiveSegment(fileName: "_1-20241125T020000.000009.ts")!], root: root)
        #expect(try call("rtmp/archive", ["name": record.id]).body == "/tmp/archive/x/\n_1-20241125T020000\n10\n4\n\n")
    }

    @Test func archiveTargetContinuesTheCounter() throws {
        let record = try stream(started: true)
        let root = record.archivesPath["s"]!
        #expect(try call("rtmp/archive", ["name": record.id]).body == "/tmp/archive/x/\n_1-20241125T020000\n1\n4\n\n")
        archive.addSegments([ArchiveSegment(fileName: "_2-20241125T020000.000005.ts")!], root: root)
        #expect(try call("rtmp/archive", ["name": record.id + "-backup"]).body == "/tmp/archive/x/\n_2-20241125T020000\n6\n4\n\n")
        #expect(try call("rtmp/archive", ["name": "nobody"]).status == 404)
        let stopped = try stream(started: false)
        #expect(try call("rtmp/archive", ["name": stopped.id]).status == 409)
    }

    @Test func aStemRootPutsTheStemBeforeEveryFileName() throws {
        // A client's path without a trailing slash (`ev/noslash`): files are ev/noslash_1-..., as the old deployment named them.
        var record = try stream(started: true)
        record = try #require(try store.update(id: record.id) { $0.archivesPath = ["s": "file:///tmp/archive/ev/noslash"] })
        #expect(try call("rtmp/archive", ["name": record.id]).body == "/tmp/archive/ev/\nnoslash_1-20241125T020000\n1\n4\n\n")
        #expect(try call("rtmp/archive_segment", ["name": record.id, "file": "noslash_1-20241125T020000.000001.ts"]).status == 200)
        #expect(try call("rtmp/archive_segment", ["name": record.id, "file": "_1-20241125T020000.000002.ts"]).status == 409)
        #expect(try store.get(id: record.id)?.archiveSegments == 1)
    }
}
