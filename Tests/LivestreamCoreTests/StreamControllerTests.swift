import Dispatch
import LivestreamCore
import Logging
import Synchronization
import Testing

/// A store that fails chosen operations, around the memory store.
final class FailingStore: StreamStore {
    let inner = MemoryStreamStore()
    let failing = Mutex<Set<String>>([])
    /// Before the next replace, another writer (a background state refresh) sets this state.
    let interfering = Mutex<String?>(nil)
    /// Replaces that still land; after them every replace loses its race (nil: no limit).
    let landingReplaces = Mutex<Int?>(nil)
    /// The next replace lands, but its caller hears of an outage (an answer lost for good).
    let unconfirmedReplace = Mutex(false)

    func fail(_ operation: String) { failing.withLock { _ = $0.insert(operation) } }
    private func check(_ operation: String) throws {
        if failing.withLock({ $0.contains(operation) }) { throw ServiceError.internal("\(operation) failed (injected)") }
    }

    func get(id: String) throws -> StreamRecord? { try inner.get(id: id) }
    func create(_ record: StreamRecord) throws -> StreamRecord { try check("create"); return try inner.create(record) }
    func replace(_ record: StreamRecord) throws -> StreamRecord {
        try check("replace")
        let lands = landingReplaces.withLock { left -> Bool in
            guard let remaining = left else { return true }
            left = remaining - 1
            return remaining > 0
        }
        guard lands else { throw ServiceError.versionConflict(record.id) }
        if let state = interfering.withLock({ value in defer { value = nil }; return value }), var current = try inner.get(id: record.id) {
            current.state = state
            _ = try inner.replace(current)
        }
        let stored = try inner.replace(record)
        if unconfirmedReplace.withLock({ value in defer { value = false }; return value }) {
            throw ServiceError(.upstreamUnavailable, code: "Unreachable", "no answer (injected)")
        }
        return stored
    }
    func delete(_ record: StreamRecord) throws { try check("delete"); try inner.delete(record) }
    func list(limit: Int?, after token: String?) throws -> StreamPage { try inner.list(limit: limit, after: token) }
    var cleanups: any CleanupJournal { inner.cleanups }
}

struct StreamControllerTests {
    let store = FailingStore()
    let media = RecordingMediaPipeline()
    let archive = MemoryArchiveStore()
    let controller: StreamController

    init() {
        controller = StreamController(
            backends: Backends(store: store, cdn: PassThroughDistribution(), media: media, archive: archive, splitter: FixedSplitter()),
            logger: Logger(label: "test"), now: { 1_732_500_000 })
    }

    func create(_ body: JSONValue = ["name": "n", "segment_length": 10]) throws -> StreamRecord {
        try controller.create(CreateStreamInput(json: body))
    }

    @Test func createBuildsThePipelineAndStoresTheRecord() throws {
        let record = try create(["name": "n", "description": "d", "segment_length": 10, "team": "blue"])
        #expect(Identifier.isValid(record.id))
        #expect(record.started == false && record.archivesPath.isEmpty && record.cloudfrontAssociated == false)
        #expect(record.rtmp1.hasPrefix("rtmp://") && record.viewerEndpointCloudfront.contains("cdn.test"))
        #expect(record.extra == ["team": "blue"] && record.lastUpdate == "1732500000")
        #expect(try controller.get(id: record.id) == record)
        #expect(media.calls == [.init(operation: "create", streamId: record.id)])
    }

    @Test func aFailedCreateTearsThePipelineDown() throws {
        store.fail("create")
        #expect(throws: ServiceError.self) { try create() }
        #expect(media.calls.map(\.operation) == ["create", "delete"])
        #expect(try store.list(limit: nil, after: nil).records.isEmpty)
    }

    @Test func updateChangesUserFieldsOnly() throws {
        let record = try create()
        let body: JSONValue = ["name": "renamed", "started": true, "rtmp1": "rtmp://evil/", "archives_path": ["x": "y"], "team": "red", "livestreamd_version": 99]
        let updated = try controller.update(id: record.id, UpdateStreamInput(json: body))
        #expect(updated.name == "renamed" && updated.extra == ["team": "red"])
        #expect(updated.started == false && updated.rtmp1 == record.rtmp1 && updated.archivesPath.isEmpty)
        #expect(updated.description == record.description && updated.version == record.version + 1)
    }

    @Test func startOpensASessionAndStoresPackagingSettings() throws {
        let record = try create()
        let started = try controller.start(id: record.id, StartStreamInput(startoverWindowSeconds: 600))
        let session = try #require(started.currentSessionId)
        #expect(started.started && started.lastStarted == "1732500000")
        #expect(started.archivesPath == [session: "memory://archive/2024/11/25/\(record.id)-1732500000/"])
        #expect(started.startoverWindowSeconds == 600 && started.keyRotationInterval == 60)
        #expect(media.calls.map(\.operation) == ["create", "updatePackaging", "start"])
        #expect { try controller.start(id: record.id, StartStreamInput()) } throws: { ($0 as? ServiceError)?.code == "state_conflict" }
    }

    @Test func startWithAPathConfinesIt() throws {
        let record = try create()
        #expect { try controller.start(id: record.id, StartStreamInput(path: "../../etc")) } throws: { ($0 as? ServiceError)?.code == "invalid_path" }
        #expect(try controller.get(id: record.id).started == false)
        let started = try controller.start(id: record.id, StartStreamInput(path: "events/keynote"))
        #expect(started.archivesPath.values.first == "memory://archive/events/keynote/")
    }

    @Test func aStartThatCannotBeStoredStopsTheChannelAgain() throws {
        let record = try create()
        store.fail("replace")
        #expect(throws: ServiceError.self) { try controller.start(id: record.id, StartStreamInput()) }
        #expect(media.calls.map(\.operation) == ["create", "start", "stop"])
        #expect(try controller.get(id: record.id).started == false)
    }

    @Test func aFailedMediaStartLeavesTheRecordAlone() throws {
        let record = try create()
        media.fail("start")
        #expect { try controller.start(id: record.id, StartStreamInput(keyRotationInterval: 5)) } throws: { ($0 as? ServiceError)?.kind == .upstreamFailed }
        let stored = try controller.get(id: record.id)
        #expect(stored == record)
        #expect(media.calls.map(\.operation) == ["create", "updatePackaging", "start", "updatePackaging"])
    }

    @Test func stopMarksStoppedAndRevertsWhenTheChannelWillNotStop() throws {
        let record = try create()
        // A stopped stream: the stop time is recorded again (the old deployment's 200), the channel is not touched.
        let again = try controller.stop(id: record.id)
        #expect(!again.started && again.lastStopped == "1732500000" && again.lastUpdate == record.lastUpdate)
        #expect(media.calls.map(\.operation) == ["create"])
        _ = try controller.start(id: record.id, StartStreamInput())
        media.fail("stop")
        #expect(throws: ServiceError.self) { try controller.stop(id: record.id) }
        let reverted = try controller.get(id: record.id)
        #expect(reverted.started == true && reverted.lastStopped == "1732500000")
        media.fail("stop", false)
        let stopped = try controller.stop(id: record.id)
        #expect(stopped.started == false && stopped.lastStopped == "1732500000")
    }

    @Test func startAndStopSurviveABackgroundWriteInBetween() throws {
        let record = try create()
        store.interfering.withLock { $0 = "IDLE" }
        let started = try controller.start(id: record.id, StartStreamInput())
        #expect(started.started && started.state == "STARTING")
        #expect(media.calls.map(\.operation) == ["create", "start"], "no undo: the start was re-applied, not abandoned")
        store.interfering.withLock { $0 = "RUNNING" }
        let stopped = try controller.stop(id: record.id)
        #expect(!stopped.started && stopped.state == "STOPPING")
        #expect(try controller.get(id: record.id).version == stopped.version)
    }

    @Test func aStartWhoseRecordWriteLandedUnconfirmedIsUndoneInTheRecordToo() throws {
        let record = try create()
        store.unconfirmedReplace.withLock { $0 = true }
        #expect(throws: ServiceError.self) { try controller.start(id: record.id, StartStreamInput(startoverWindowSeconds: 1234)) }
        let stored = try controller.get(id: record.id)
        // The channel was stopped and the packaging given back: the record says so, not what the lost write said.
        #expect(!stored.started && stored.startoverWindowSeconds == record.startoverWindowSeconds && stored.lastStopped != nil)
        #expect(media.calls.map(\.operation) == ["create", "updatePackaging", "start", "stop", "updatePackaging"])
    }

    @Test func aStopThatTookEffectAnswersItsRecordWhenTheFollowUpWriteLosesEveryRace() throws {
        let record = try create()
        _ = try controller.start(id: record.id, StartStreamInput())
        store.landingReplaces.withLock { $0 = 1 }  // the stop's first write lands, every later one conflicts
        let stopped = try controller.stop(id: record.id)
        #expect(!stopped.started && stopped.state == "STOPPING")
        #expect(try controller.get(id: record.id).started == false)
        #expect(media.calls.map(\.operation) == ["create", "start", "stop"], "no undo of a stop that took effect")
    }

    @Test func liveAssociationIsBookkeptAndIdempotent() throws {
        let record = try create()
        #expect(try controller.associateLive(id: record.id).cloudfrontAssociated)
        #expect(try controller.associateLive(id: record.id).cloudfrontAssociated)
        #expect(try controller.dissociateLive(id: record.id).cloudfrontAssociated == false)
        #expect(try controller.dissociateLive(id: record.id).cloudfrontAssociated == false)
    }

    @Test func splitWritesOnePlaylistPerRange() throws {
        let record = try create()
        let started = try controller.start(id: record.id, StartStreamInput())
        let session = started.currentSessionId!
        let root = started.archivesPath[session]!
        let body: JSONValue = ["session_id": .string(session), "timestamp_list": [["start": 0, "end": 10], ["start": "15", "end": 30]], "name_modifier": "m"]
        #expect { try controller.split(id: record.id, SplitInput(json: body)) } throws: { ($0 as? ServiceError)?.code == "no_segments" }
        archive.addSegments((0..<3).map { ArchiveSegment(name: "_1.00000\($0).ts", pipeline: 1, counter: $0, duration: 10) }, root: root)
        let clips = try controller.split(id: record.id, SplitInput(json: body))
        let folder = "2024/11/25/\(record.id)-1732500000/"
        #expect(clips.map(\.index) == [folder + "index_m_0.m3u8", folder + "index_m_1.m3u8"])
        #expect(clips.map(\.url) == ["https://archive.example/\(folder)index_m_0.m3u8", "https://archive.example/\(folder)index_m_1.m3u8"])
        #expect(clips.map(\.asked) == [TimeRange(start: 0, end: 10), TimeRange(start: 15, end: 30)])
        #expect(clips.map(\.plan?.achieved) == [TimeRange(start: 0, end: 10), TimeRange(start: 10, end: 30)], "cut at segment boundaries")
        #expect(archive.playlist(root: root, fileName: "index_m_1.m3u8") == "_1.000001.ts\n_1.000002.ts")
        let note = try #require(archive.playlist(root: root, fileName: "index_m_1.json"))
        #expect(note.contains(#""asked":{"end":30.0,"start":15.0}"#) && note.contains(#""achieved":{"end":30.0,"start":10.0}"#), "\(note)")

        let beyond: JSONValue = ["session_id": .string(session), "timestamp_list": [["start": 0, "end": 10], ["start": 100, "end": 200]], "name_modifier": "z"]
        #expect(try controller.split(id: record.id, SplitInput(json: beyond)).count == 2, "a range past the end gets a playlist without segments")
        #expect(archive.playlist(root: root, fileName: "index_z_1.m3u8") == "")
        let none: JSONValue = ["session_id": .string(session), "timestamp_list": []]
        #expect(try controller.split(id: record.id, SplitInput(json: none)) == [])

        let unknown: JSONValue = ["session_id": .string(Identifier.make()), "timestamp_list": [["start": 0, "end": 1]]]
        #expect { try controller.split(id: record.id, SplitInput(json: unknown)) } throws: { ($0 as? ServiceError)?.code == "session_not_found" }
    }

    @Test func deleteTearsDownAndForgets() throws {
        let record = try create()
        let deleted = try controller.delete(id: record.id)
        #expect(deleted == record)
        #expect(media.calls.map(\.operation) == ["create", "delete"])
        #expect { try controller.get(id: record.id) } throws: { ($0 as? ServiceError)?.kind == .notFound }
    }

    @Test func concurrentUpdatesAreNeverLost() throws {
        let record = try create()
        let lastWritten = Mutex<[Int: Int64]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<25 {
                // A conflict (409) after the retries is allowed; a success that later vanishes is not.
                if (try? controller.update(id: record.id, UpdateStreamInput(json: ["w\(worker)": .int(Int64(round))]))) != nil {
                    lastWritten.withLock { $0[worker] = Int64(round) }
                }
            }
        }
        let final = try controller.get(id: record.id)
        let written = lastWritten.withLock { $0 }
        #expect(!written.isEmpty)
        for (worker, round) in written {
            #expect(final.extra["w\(worker)"] == .int(round))
        }
    }
}
