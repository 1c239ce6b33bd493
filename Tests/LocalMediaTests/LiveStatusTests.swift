@testable import LocalMedia
import Foundation
import LivestreamCore
import Logging
import Synchronization
import Testing

struct LiveStatusTests {
    let store = MemoryStreamStore()
    let clock = ManualClock()
    /// How often the pipeline asked for input figures (nginx's stat page).
    let asked = Counter()

    final class Counter: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    func media() -> LocalMediaPipeline {
        let clock = clock
        let asked = asked
        return LocalMediaPipeline(
            settings: .init(
                rtmpURL: "rtmp://127.0.0.1:1935/", ingestApp: "live", hlsURL: "http://h/hls/", controlURL: "http://127.0.0.1:9/control", hlsDirectory: "/srv/hls"),
            store: store, archive: MemoryArchiveStore(), logger: Logger(label: "test"), stopConfirmation: .zero, clock: { clock.now },
            wallClock: { clock.epochSeconds }, nginxPublishers: { [] },
            inputFigures: {
                asked.add()
                return ["7": InputFigures(bitsPerSecond: 800_000, frameRate: 25, width: 320, height: 240)]
            })
    }

    func status(_ media: LocalMediaPipeline, _ id: String) throws -> [PipelineStatus] {
        let record = try #require(try store.get(id: id))
        return try #require(media.liveStatus(of: [record])[id])
    }

    @Test func publishersTheirInputAndWhoIsOnAir() throws {
        let media = media()
        let id = Identifier.make()
        let resources = try media.create(streamId: id, name: "n", description: "", segmentLength: 4)
        var record = StreamRecord(id: id, name: "n", segmentLength: 4, lastUpdate: "1")
        (record.rtmp1, record.rtmp2, record.viewerEndpoint) = (resources.rtmp1, resources.rtmp2, resources.viewerEndpoint)
        record.started = true
        _ = try store.create(record)

        // Nobody publishes: nginx is not asked.
        let idle = try status(media, id)
        #expect(idle.map(\.publishing) == [false, false] && idle.map(\.onAir) == [false, false] && idle.allSatisfy { $0.input == nil })
        #expect(idle.allSatisfy { $0.liveURL == "http://h/hls/\(id)/index.m3u8" && $0.thumbnailURL == nil })
        #expect(asked.count == 0)

        let endpoint = try #require(media.internalEndpoints.first { $0.path == "rtmp/publish" })
        _ = try endpoint.handle(InternalRequest(fields: ["app": "live", "name": IngestKey.key(inURL: resources.rtmp1), "clientid": "7"]))
        clock.advance(.seconds(5))
        _ = try endpoint.handle(InternalRequest(fields: ["app": "live", "name": IngestKey.key(inURL: resources.rtmp2), "clientid": "8"]))
        let both = try status(media, id)
        #expect(both[0] == PipelineStatus(
            pipeline: 1, publishing: true, publishingSince: "1732500000", onAir: true, input: InputFigures(bitsPerSecond: 800_000, frameRate: 25, width: 320, height: 240),
            liveURL: "http://h/hls/\(id)/index.m3u8", thumbnailURL: "http://h/hls/\(id)/thumbnail1.jpg"))
        // The backup publishes (since it was accepted) but is not on air while the primary is; nginx has no figures for it yet.
        #expect(both[1].publishing == true && both[1].publishingSince == "1732500005" && both[1].onAir == false && both[1].input == nil)
        #expect(both[1].thumbnailURL == "http://h/hls/\(id)/thumbnail2.jpg")

        // The viewers' failover shows the backup.
        _ = try store.update(id: id) { $0.mediaState[LocalMediaPipeline.viewersFollowBackup] = .bool(true) }
        let followed = try status(media, id)
        #expect(followed.map(\.onAir) == [false, true])
    }
}
