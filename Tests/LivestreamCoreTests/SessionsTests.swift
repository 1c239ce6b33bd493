import LivestreamCore
import Logging
import Synchronization
import Testing

/// The sessions API's use cases: times, archive figures, clips, deletion.
struct SessionsTests {
    let store = MemoryStreamStore()
    let archive = MemoryArchiveStore()
    let clock = Clock()
    let controller: StreamController

    /// Epoch seconds the test moves on.
    final class Clock: Sendable {
        private let seconds = Atomic<Int64>(1_732_500_000)
        var now: Int64 { seconds.load(ordering: .relaxed) }
        func advance(_ by: Int64) { seconds.add(by, ordering: .relaxed) }
    }

    init() {
        let clock = self.clock
        controller = StreamController(
            backends: Backends(store: store, cdn: PassThroughDistribution(), media: RecordingMediaPipeline(), archive: archive, splitter: FixedSplitter()),
            logger: Logger(label: "test"), now: { clock.now })
    }

    func advance(_ seconds: Int64) { clock.advance(seconds) }

    func segments(_ pipeline: Int, _ counters: [Int], bytes: Int64 = 100) -> [ArchiveSegment] {
        counters.map { ArchiveSegment(name: "_\(pipeline)-x.\($0).ts", pipeline: pipeline, counter: $0, duration: 10, bytes: bytes) }
    }

    /// A stream with one finished session of 60 s: pipeline 1 counters 0-2, pipeline 2 counters 1-2.
    func finishedSession() throws -> (StreamRecord, String, String) {
        let record = try controller.create(CreateStreamInput(json: ["name": "n", "segment_length": 10]))
        let started = try controller.start(id: record.id, StartStreamInput())
        let session = try #require(started.currentSessionId)
        let root = try #require(started.archivesPath[session])
        archive.addSegments(segments(1, [0, 1, 2]) + segments(2, [1, 2], bytes: 50), root: root)
        advance(60)
        _ = try controller.stop(id: record.id)
        return (record, session, root)
    }

    @Test func aSessionTellsItsTimesArchiveAndClips() throws {
        let (record, session, _) = try finishedSession()
        let clips = try controller.split(id: record.id, SplitInput(json: ["session_id": .string(session), "timestamp_list": [["start": 5, "end": 12]], "name_modifier": "c"]))
        #expect(clips.first?.plan?.achieved == TimeRange(start: 0, end: 20))

        let report = try controller.session(id: record.id, sessionId: session)
        #expect(report.startedAt == "1732500000" && report.stoppedAt == "1732500060" && report.durationSeconds == 60 && !report.live)
        #expect(report.pipelines == [.init(pipeline: 1, segments: 3, bytes: 300), .init(pipeline: 2, segments: 2, bytes: 100)])
        #expect(report.coverage.covered[2] == [TimeRange(start: 10, end: 30)])
        #expect(report.archiveURL?.hasPrefix("https://archive.example/") == true)
        #expect(report.clips.count == 1)
        #expect(report.clips.first?.asked == TimeRange(start: 5, end: 12) && report.clips.first?.plan?.achieved == TimeRange(start: 0, end: 20))
        #expect(report.clips.first?.index == clips.first?.index && report.clips.first?.madeAt == "1732500060")
        #expect(try controller.sessions(id: record.id).map(\.sessionId) == [session])
    }

    @Test func sessionsAreListedOldestFirstAndTheLiveOneSaysSo() throws {
        let (record, first, _) = try finishedSession()
        advance(100)
        let second = try #require(try controller.start(id: record.id, StartStreamInput()).currentSessionId)
        advance(7)
        let listed = try controller.sessions(id: record.id)
        #expect(listed.map(\.sessionId) == [first, second])
        #expect(listed[1].live && listed[1].stoppedAt == nil && listed[1].durationSeconds == 7)
        #expect(listed[1].pipelines.isEmpty && listed[1].coverage.duration == 0)
    }

    @Test func oldSessionsTakeTheirTimesFromTheRecordAndTheFolderName() throws {
        let created = try controller.create(CreateStreamInput(json: ["name": "n"]))
        let (current, older) = (Identifier.make(), Identifier.make())
        // As the old deployment wrote it: no session times, the last start and stop on the record.
        _ = try store.update(id: created.id) { record in
            record.archivesPath = [older: "memory://archive/2024/11/20/\(created.id)-1732100000/", current: "memory://archive/events/"]
            record.currentSessionId = current
            record.lastStarted = "1732400000"
            record.lastStopped = "1732400090"
        }
        let listed = try controller.sessions(id: created.id)
        #expect(listed.map(\.sessionId) == [older, current])
        #expect(listed[0].startedAt == "1732100000" && listed[0].stoppedAt == nil && listed[0].durationSeconds == nil)
        #expect(listed[1].startedAt == "1732400000" && listed[1].stoppedAt == "1732400090" && listed[1].durationSeconds == 90)
    }

    @Test func deletingASessionRemovesItsArchiveAndJournalsIt() throws {
        let (record, session, root) = try finishedSession()
        _ = try controller.split(id: record.id, SplitInput(json: ["session_id": .string(session), "timestamp_list": [["start": 0, "end": 5]]]))
        #expect(try controller.deleteSession(id: record.id, sessionId: session) == 7, "5 segments, a playlist and its note")
        #expect(try archive.listSession(root: root) == SessionFiles(segments: []))
        let stored = try controller.get(id: record.id)
        #expect(stored.archivesPath[session] == nil && stored.sessionTimes[session] == nil)
        #expect { try controller.session(id: record.id, sessionId: session) } throws: { ($0 as? ServiceError)?.code == "session_not_found" }
        #expect { try controller.deleteSession(id: record.id, sessionId: session) } throws: { ($0 as? ServiceError)?.code == "session_not_found" }
        let events = try store.events!.events(of: record.id, after: 0, limit: 100)
        #expect(events.last?.type == .sessionDeleted && events.last?.data["session_id"] == .string(session) && events.last?.data["files"] == 7)
    }

    @Test func aLiveSessionOrASharedArchiveIsNotDeleted() throws {
        let record = try controller.create(CreateStreamInput(json: ["name": "n"]))
        let started = try controller.start(id: record.id, StartStreamInput(json: ["path": "events/keynote"]))
        let session = try #require(started.currentSessionId)
        archive.addSegments(segments(1, [0]), root: started.archivesPath[session]!)
        #expect { try controller.deleteSession(id: record.id, sessionId: session) } throws: { ($0 as? ServiceError)?.code == "session_live" }
        _ = try controller.stop(id: record.id)
        let again = try #require(try controller.start(id: record.id, StartStreamInput(json: ["path": "events/keynote"])).currentSessionId)
        _ = try controller.stop(id: record.id)
        #expect { try controller.deleteSession(id: record.id, sessionId: session) } throws: { ($0 as? ServiceError)?.code == "archive_shared" }
        #expect(try archive.listSegments(root: started.archivesPath[session]!).count == 1, "nothing removed")
        #expect(again != session)
    }
}

/// Exact clips: the edges cut at the asked times by the archive, the playlist rewritten around them.
struct ExactClipTests {
    let archive = MemoryArchiveStore()
    let controller: StreamController

    init() {
        controller = StreamController(
            backends: Backends(store: MemoryStreamStore(), cdn: PassThroughDistribution(), media: RecordingMediaPipeline(), archive: archive, splitter: FixedSplitter()),
            logger: Logger(label: "test"), now: { 1_732_500_000 })
    }

    @Test func edgesAreCutAtTheAskedTimes() throws {
        let record = try controller.create(CreateStreamInput(json: ["name": "n", "segment_length": 10]))
        let started = try controller.start(id: record.id, StartStreamInput())
        let session = try #require(started.currentSessionId)
        let root = try #require(started.archivesPath[session])
        archive.addSegments((0..<4).map { ArchiveSegment(name: "_1-x.\($0).ts", pipeline: 1, counter: $0, duration: 10) }, root: root)
        let body: JSONValue = [
            "session_id": .string(session), "timestamp_list": [["start": 5, "end": 27.5], ["start": 12, "end": 15], ["start": 10, "end": 20]],
            "name_modifier": "x", "exact": true,
        ]
        let clips = try controller.split(id: record.id, SplitInput(json: body))
        #expect(clips.map { $0.plan?.achieved } == [TimeRange(start: 5, end: 27.5), TimeRange(start: 12, end: 15), TimeRange(start: 10, end: 20)])
        #expect(clips.allSatisfy { $0.plan?.exact == true })
        // Head [5, 10) of segment 0, segment 1 whole, tail [20, 27.5) of segment 2; each cut piece after a discontinuity.
        #expect(clips[0].plan?.entries.map(\.uri) == ["index_x_0_head_0.ts", "_1-x.1.ts", "index_x_0_tail_0.ts"])
        #expect(clips[0].plan?.entries.map(\.discontinuity) == [true, true, true])
        #expect(archive.playlist(root: root, fileName: "index_x_0_head_0.ts") == "_1-x.0.ts [5.0, 10.0)")
        #expect(archive.playlist(root: root, fileName: "index_x_0_tail_0.ts") == "_1-x.2.ts [0.0, 7.5)")
        #expect(archive.playlist(root: root, fileName: "index_x_1_edge_0.ts") == "_1-x.1.ts [2.0, 5.0)", "both edges in one segment: one cut")
        #expect(clips[2].plan?.entries.map(\.uri) == ["_1-x.1.ts"], "a range on segment boundaries needs no cut")
        let note = try #require(archive.playlist(root: root, fileName: "index_x_0.json"))
        #expect(note.contains(#""exact":true"#))

        let many: JSONValue = ["session_id": .string(session), "timestamp_list": .array(Array(repeating: ["start": 0, "end": 1], count: 21)), "exact": true]
        #expect(throws: ServiceError.self) { try SplitInput(json: many) }
        #expect(throws: ServiceError.self) { try SplitInput(json: ["session_id": .string(session), "timestamp_list": [], "exact": "yes"]) }
    }

    @Test func anArchiveThatCannotCutSaysSo() throws {
        struct Uncuttable: ArchiveStore {
            let inner: MemoryArchiveStore
            func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String {
                try inner.sessionRoot(streamId: streamId, startedAt: startedAt, requestedPath: requestedPath)
            }
            func listSession(root: String) throws -> SessionFiles { try inner.listSession(root: root) }
            func writeFile(root: String, fileName: String, contents: String) throws -> String { try inner.writeFile(root: root, fileName: fileName, contents: contents) }
            func fileKey(root: String, fileName: String) throws -> String { try inner.fileKey(root: root, fileName: fileName) }
            func readFile(root: String, fileName: String) throws -> String? { try inner.readFile(root: root, fileName: fileName) }
            func deleteSession(root: String) throws -> Int { try inner.deleteSession(root: root) }
            func playbackURL(root: String, fileName: String) -> String? { nil }
        }
        let controller = StreamController(
            backends: Backends(
                store: MemoryStreamStore(), cdn: PassThroughDistribution(), media: RecordingMediaPipeline(), archive: Uncuttable(inner: archive), splitter: FixedSplitter()),
            logger: Logger(label: "test"), now: { 1_732_500_000 })
        let record = try controller.create(CreateStreamInput(json: ["name": "n", "segment_length": 10]))
        let started = try controller.start(id: record.id, StartStreamInput())
        let session = try #require(started.currentSessionId)
        archive.addSegments([ArchiveSegment(name: "_1-x.0.ts", pipeline: 1, counter: 0, duration: 10)], root: try #require(started.archivesPath[session]))
        let body: JSONValue = ["session_id": .string(session), "timestamp_list": [["start": 2, "end": 3]], "exact": true]
        #expect { try controller.split(id: record.id, SplitInput(json: body)) } throws: { ($0 as? ServiceError)?.code == "exact_unsupported" }
    }
}
