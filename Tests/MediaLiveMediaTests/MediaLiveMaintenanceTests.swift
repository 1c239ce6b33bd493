import AWSClient
import Foundation
import LivestreamCore
import Logging
@testable import MediaLiveMedia
import Testing

struct MediaLiveMaintenanceTests {
    /// ListChannels: channel c1 in `state`.
    func maintenance(_ store: MemoryStreamStore, channel state: String, now: Int64) -> MediaLiveMaintenance {
        let transport = ScriptedTransport { method, path in
            method == "GET" && path == "/prod/channels" ? json(200, #"{"channels":[{"id":"c1","state":"\#(state)"}]}"#) : json(404, "{}")
        }
        return MediaLiveMaintenance(services: services(transport), store: store, interval: .seconds(30), logger: Logger(label: "test"), now: { now })
    }

    func stream(_ store: MemoryStreamStore, started: Bool, lastUpdate: String, lastStopped: String?) throws -> StreamRecord {
        var record = StreamRecord(id: Identifier.make(), name: "n", lastUpdate: lastUpdate)
        record.liveChannelId = "c1"
        record.started = started
        record.state = "RUNNING"
        record.lastStopped = lastStopped
        return try store.create(record)
    }

    @Test func aStopJustMadeIsNotUndoneByAChannelStillRunning() throws {
        // Stop writes started=false and last_stopped, then calls StopChannel; last_update stays (as the
        // old deployment left it). A refresh in between must not take `started` back from the channel.
        let store = MemoryStreamStore()
        let stopped = try stream(store, started: false, lastUpdate: "1000", lastStopped: "5000")
        maintenance(store, channel: "RUNNING", now: 5010).refreshStates()
        #expect(try store.get(id: stopped.id)?.started == false)
        // Once settled, the channel's state is the truth again.
        maintenance(store, channel: "RUNNING", now: 5000 + MediaLiveMaintenance.settleSeconds + 1).refreshStates()
        #expect(try store.get(id: stopped.id)?.started == true)
        #expect(MediaLiveMaintenance.lastChange(of: try #require(try store.get(id: stopped.id))) == 5000)
    }

    /// A create's write-ahead note for stream s1 (everything found by id or tag), due at `due`.
    func note(_ store: MemoryStreamStore, due: Int64) throws -> PendingCleanup {
        let teardown = Teardown(steps: [.originEndpoint(id: "s1"), .packageChannel(id: "s1"), .taggedChannels(stream: "s1"), .taggedInputs(stream: "s1")], unlessStoredAfter: due)
        #expect(Teardown(jsonValue: teardown.jsonValue) == teardown)
        let cleanup = PendingCleanup(owner: MediaLivePipeline.owner, streamId: "s1", work: teardown.jsonValue, createdAt: due - 10)
        try store.cleanups.save(cleanup)
        return cleanup
    }

    /// The emulated account: channel c1 and input i1 tagged as stream s1's, c2 and i2 someone else's.
    func account() -> ScriptedTransport {
        ScriptedTransport { method, path in
            switch (method, path) {
            case ("GET", "/prod/channels"):
                json(200, #"{"channels":[{"id":"c1","state":"IDLE","tags":{"livestreamd:stream":"s1"}},{"id":"c2","state":"IDLE","tags":{"livestreamd:stream":"s2"}}]}"#)
            case ("GET", "/prod/inputs"):
                json(200, #"{"inputs":[{"id":"i1","state":"DETACHED","tags":{"livestreamd:stream":"s1"}},{"id":"i2","state":"DETACHED","tags":{}}]}"#)
            case ("GET", "/prod/channels/c1"): json(200, #"{"id":"c1","state":"IDLE"}"#)
            case ("DELETE", _): json(200, "{}")
            default: json(404, "{}")
            }
        }
    }

    @Test func aCreateNoteWaitsForItsTimeThenIsDroppedWhenTheRecordWasStored() throws {
        let store = MemoryStreamStore()
        let cleanup = try note(store, due: 1000)
        let transport = account()
        let early = MediaLiveMaintenance(services: services(transport), store: store, interval: .seconds(30), logger: Logger(label: "test"), now: { 990 })
        #expect(early.finishCleanups().nextNoteDue == 1000)
        #expect(early.runRound() == .seconds(10))
        #expect(try store.cleanups.pending() == [cleanup])

        _ = try store.create(StreamRecord(id: "s1", name: "n", lastUpdate: "990"))
        let due = MediaLiveMaintenance(services: services(transport), store: store, interval: .seconds(30), logger: Logger(label: "test"), now: { 1000 })
        #expect(due.finishCleanups().remaining == false)
        #expect(try store.cleanups.pending().isEmpty)
        #expect(transport.calls.withLock { $0 }.allSatisfy { !$0.hasPrefix("DELETE") }, "the stream owns what the create built: nothing is deleted")
    }

    @Test func aCreateNoteWhoseRecordNeverCameRemovesWhatTheCreateBuiltByIdAndTag() throws {
        let store = MemoryStreamStore()
        _ = try note(store, due: 1000)
        let transport = account()
        let due = MediaLiveMaintenance(services: services(transport), store: store, interval: .seconds(30), logger: Logger(label: "test"), now: { 1000 })
        #expect(due.finishCleanups().remaining == false)
        #expect(try store.cleanups.pending().isEmpty)
        let deleted = transport.calls.withLock { $0 }.filter { $0.hasPrefix("DELETE") }
        #expect(deleted == ["DELETE /origin_endpoints/s1", "DELETE /channels/s1", "DELETE /prod/channels/c1", "DELETE /prod/inputs/i1"])
    }
}
