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
        let nginx = FakeLiveFolderServer(directory: root + "/hls")
        let folders = nginx.folders()
        let stale = folders.staleFolders(of: [stopped, live, fresh], olderThan: .seconds(3600))
        #expect(Set(stale) == [stopped.id, stopped.id + "-backup"])
        for name in stale { #expect(folders.removeFolder(named: name) == nil) }
        #expect(Set(nginx.requests.map(\.target)) == ["DELETE /live-folders/\(stopped.id)/", "DELETE /live-folders/\(stopped.id)-backup/"])
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
            store: MemoryStreamStore(), folders: LiveFolders(directory: nil, url: "http://127.0.0.1:9/live-folders", token: nil), liveness: liveness, nginxPublishers: { nil }, keep: .seconds(3600),
            logger: Logger(label: "test"))
        let found = maintenance.stalledArchives([stalled, healthy, newcomer])
        #expect(found.map(\.0) == [stalled.id] && found.map(\.1) == [1])
    }

    @Test func slotsOfPublishersNginxNoLongerHasAreFreedAfterAStartUp() throws {
        let clock = ManualClock()
        let liveness = PublisherLiveness(updateInterval: .seconds(2), now: { clock.now })
        let store = MemoryStreamStore()
        let live = try store.create(record(started: true, publishers: [1: "held", 2: "lost"]))
        var stopping = record(started: false, publishers: [1: "gone"])
        stopping.state = LocalMediaPipeline.stoppingState
        stopping = try store.create(stopping)
        let maintenance = LocalMaintenance(
            store: store, folders: LiveFolders(directory: nil, url: "http://127.0.0.1:9/live-folders", token: nil), liveness: liveness, nginxPublishers: { ["held"] }, keep: .seconds(3600),
            logger: Logger(label: "test"))
        // Right after a start-up, absence from the stat page is not enough: an older worker may still report.
        #expect(maintenance.runRound() == .seconds(4))
        #expect(Publishers(try store.get(id: live.id)!.mediaState).clients == [1: "held", 2: "lost"])
        clock.advance(.seconds(4))
        #expect(maintenance.runRound() == .seconds(30))
        let after = try #require(try store.get(id: live.id))
        #expect(Publishers(after.mediaState).clients == [1: "held"] && after.publishing == [1])
        let stopped = try #require(try store.get(id: stopping.id))
        #expect(stopped.publishing == [] && stopped.state == StreamRecord.idleState, "the stop completes once its last publisher is gone")
    }
}

struct NginxStatTests {
    /// nginx-rtmp's rtmp_stat page as it writes it (one tag per line; trimmed), with a publisher
    /// in the ingest application (its stream 5.7 s old: bw_in still 0), the archiver playing
    /// there, and the relay publishing elsewhere.
    let page = """
        <?xml version="1.0" encoding="utf-8" ?>
        <rtmp>
        <nginx_version>1.26.3</nginx_version>
        <server>
        <application>
        <name>live</name>
        <live>
        <stream>
        <name>abc</name>
        <time>5713</time><bw_in>0</bw_in>
        <bytes_in>74853</bytes_in>
        <client><id>9</id><address>127.0.0.1</address><time>4000</time><dropped>0</dropped><active/></client>
        <client><id>7</id><address>127.0.0.1</address><time>5000</time><dropped>0</dropped><publishing/><active/></client>
        <meta><video><width>320</width><height>240</height><frame_rate>25</frame_rate><codec>H264</codec></video><audio><codec>AAC</codec></audio></meta>
        <nclients>2</nclients>
        <publishing/>
        <active/>
        </stream>
        <stream>
        <name>def</name>
        <time>30000</time><bw_in>812000</bw_in>
        <bytes_in>3000000</bytes_in>
        <client><id>11</id><address>127.0.0.1</address><time>30000</time><publishing/><active/></client>
        <meta><video><width>1280</width><height>720</height><frame_rate>29.97</frame_rate></video></meta>
        </stream>
        <nclients>3</nclients>
        </live>
        </application>
        <application>
        <name>failover</name>
        <live>
        <stream>
        <name>abc</name>
        <client><id>8</id><address>127.0.0.1</address><publishing/><active/></client>
        </stream>
        </live>
        </application>
        </server>
        </rtmp>
        """

    @Test func listsThePublishersOfOneApplication() {
        #expect(NginxStat.publishingClients(in: page, app: "live") == ["7", "11"])
        #expect(NginxStat.publishingClients(in: page, app: "failover") == ["8"])
        #expect(NginxStat.publishingClients(in: page, app: "other") == [])
        #expect(NginxStat.publishingClients(in: "<html>403</html>", app: "live") == nil)
    }

    @Test func readsEachPublishersInput() {
        let figures = NginxStat.inputFigures(in: page, app: "live")
        // Before nginx-rtmp's first 10-second measure, the average since the publish began.
        #expect(figures["7"] == InputFigures(bitsPerSecond: 74853 * 8 * 1000 / 5713, frameRate: 25, width: 320, height: 240))
        #expect(figures["11"] == InputFigures(bitsPerSecond: 812_000, frameRate: 29.97, width: 1280, height: 720))
        #expect(figures.count == 2 && NginxStat.inputFigures(in: page, app: "failover")["8"]?.width == nil)
    }
}
