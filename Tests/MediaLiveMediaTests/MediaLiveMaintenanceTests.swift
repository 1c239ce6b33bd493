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
}
