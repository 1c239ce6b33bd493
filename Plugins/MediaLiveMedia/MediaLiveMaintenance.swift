import AWSClient
import Foundation
import LivestreamCore
import Logging
import Synchronization

/// The `medialive` plugin's background work: finishes pending teardowns and keeps `state` honest.
///
/// Each round runs every pending `medialive` cleanup once (a failing one waits longer
/// after each failure, up to five minutes), then lists the MediaLive channels and
/// writes each record whose `state` differs from its channel's. `started` follows the
/// channel only when the record was not created, updated, started or stopped in the last
/// `settleSeconds`, so a start or stop in progress is never overridden. Rounds come every `interval`, every
/// second while a channel is in a transitional state or work is pending, and at once
/// when the pipeline asks (`wakeup`) after journaling work or starting a transition.
final class MediaLiveMaintenance: MaintenanceWork {
    static let stableStates: Set<String> = ["IDLE", "RUNNING", "DELETED", "CREATE_FAILED", "UPDATE_FAILED"]
    static let settleSeconds: Int64 = 60

    let services: MediaServices
    let store: any StreamStore
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Int64
    let wakeup = MaintenanceWakeup()
    /// Cleanup id -> epoch seconds before which it is not retried (this process only).
    private let backoff = Mutex<[String: Int64]>([:])
    /// Stream id -> id of its create's write-ahead note, while the create runs in this process.
    let runningCreates = Mutex<[String: String]>([:])

    init(services: MediaServices, store: any StreamStore, interval: Duration, logger: Logger, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.services = services
        self.store = store
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    func runRound() -> Duration {
        let cleanups = finishCleanups()
        let transitional = refreshStates()
        var next = cleanups.remaining || transitional ? min(interval, .seconds(1)) : interval
        if let due = cleanups.nextNoteDue { next = min(next, .seconds(max(1, due - now()))) }
        return next
    }

    /// What a round left of the pending cleanups.
    struct CleanupRound {
        /// Whether cleanups remain to be retried.
        var remaining = false
        /// When the earliest create note not judged yet is due (epoch seconds).
        var nextNoteDue: Int64?
    }

    @discardableResult
    func finishCleanups() -> CleanupRound {
        let pending: [PendingCleanup]
        do {
            pending = try store.cleanups.pending().filter { $0.owner == MediaLivePipeline.owner }
            ServiceMetrics.pendingCleanups(pending.count)
        } catch {
            logger.warning("cannot read pending cleanups", metadata: ["error": "\(error)"])
            return CleanupRound(remaining: true)
        }
        let runner = TeardownRunner(services: services)
        var remaining = false
        var nextNoteDue: Int64?
        for var cleanup in pending {
            if let notBefore = backoff.withLock({ $0[cleanup.id] }), notBefore > now() {
                remaining = true
                continue
            }
            guard var teardown = Teardown(jsonValue: cleanup.work) else {
                logger.error("a pending cleanup cannot be read; left in the journal", metadata: ["cleanup": "\(cleanup.id)", "stream": "\(cleanup.streamId)"])
                continue
            }
            // A create's note names a stream clients never saw: its teardown is not theirs to hear of.
            let ofADeletedStream = teardown.unlessStoredAfter == nil
            if let after = teardown.unlessStoredAfter {
                // A create's write-ahead note: wait for the create (in any process) to finish or give up.
                guard now() >= after else {
                    nextNoteDue = min(nextNoteDue ?? after, after)
                    continue
                }
                do {
                    if try store.get(id: cleanup.streamId) != nil {
                        try store.cleanups.finish(id: cleanup.id)
                        continue
                    }
                } catch {
                    logger.warning("cannot judge an unfinished create", metadata: ["stream": "\(cleanup.streamId)", "error": "\(error)"])
                    remaining = true
                    continue
                }
                logger.warning("a create never stored its stream; removing what it built", metadata: ["stream": "\(cleanup.streamId)"])
                teardown.unlessStoredAfter = nil
            }
            let outcome = runner.pass(teardown)
            do {
                if try store.cleanups.record(outcome, of: teardown, into: &cleanup, stored: true) {
                    _ = backoff.withLock { $0.removeValue(forKey: cleanup.id) }
                    logger.notice("pending cleanup finished", metadata: ["stream": "\(cleanup.streamId)"])
                    if ofADeletedStream { store.journal(.cleanupDone, streamId: cleanup.streamId, logger: logger) }
                    continue
                }
            } catch {
                logger.warning("cannot update a pending cleanup", metadata: ["cleanup": "\(cleanup.id)", "error": "\(error)"])
            }
            remaining = true
            if let failure = outcome.failure {
                // `record` counted the failure in `attempts`.
                let delay = Int64(min(300, 1 << min(cleanup.attempts, 9)))
                backoff.withLock { $0[cleanup.id] = now() + delay }
                logger.warning("pending cleanup failed; will retry", metadata: ["stream": "\(cleanup.streamId)", "attempts": "\(cleanup.attempts)", "error": "\(failure)"])
            }
        }
        return CleanupRound(remaining: remaining, nextNoteDue: nextNoteDue)
    }

    /// - Returns: whether some stream's channel is in a transitional state.
    @discardableResult
    func refreshStates() -> Bool {
        do {
            let states = try channelStates()
            var transitional = false
            let records = try store.listForRefresh()
            ServiceMetrics.streams(byState: Dictionary(grouping: records, by: \.state).mapValues(\.count), publishers: nil)
            for record in records where !record.liveChannelId.isEmpty {
                guard let state = states[record.liveChannelId] else { continue }
                if !MediaLiveMaintenance.stableStates.contains(state) { transitional = true }
                let settled = MediaLiveMaintenance.lastChange(of: record) + MediaLiveMaintenance.settleSeconds <= now()
                let started = settled ? ["STARTING", "RUNNING"].contains(state) || (record.started && state == "UPDATING") : record.started
                // Alerts only of channels that run (one ListAlerts each); unreadable ones stay as they were.
                let alerts = ["STARTING", "RUNNING"].contains(state) ? (try? activeAlerts(record.liveChannelId)) ?? ChannelAlerts(record.mediaState) : ChannelAlerts()
                guard record.state != state || record.started != started || alerts != ChannelAlerts(record.mediaState) else { continue }
                _ = try store.update(id: record.id) { current in
                    // Only if nobody changed the record since it was listed.
                    guard current.version == record.version else { return }
                    current.state = state
                    current.started = started
                    alerts.store(into: &current)
                }
            }
            return transitional
        } catch {
            logger.warning("cannot refresh channel states", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// When the record last changed by a client's hand: created or updated (`last_update`),
    /// started or stopped (`last_started`, `last_stopped`; start and stop leave `last_update`
    /// as the old deployment did).
    static func lastChange(of record: StreamRecord) -> Int64 {
        [record.lastUpdate, record.lastStarted, record.lastStopped].compactMap { $0.flatMap { Int64($0) } }.max() ?? 0
    }

    /// The channel's alerts that are set now (ListAlerts, every page).
    func activeAlerts(_ channelId: String) throws -> ChannelAlerts {
        var alerts = ChannelAlerts()
        var token: String?
        repeat {
            var query = "maxResults=100&stateFilter=SET"
            if let token { query += "&nextToken=" + SignatureV4.uriEncode(token, keepSlash: false) }
            let page = try services.rest(services.medialive, "GET", "/prod/channels/\(SignatureV4.uriEncode(channelId, keepSlash: false))/alerts", query: query).objectValue ?? [:]
            for alert in page["alerts"]?.arrayValue ?? [] {
                guard let fields = alert.objectValue, let pipelineId = fields["pipelineId"]?.stringValue.flatMap({ Int($0) }) else { continue }
                let type = fields["alertType"]?.stringValue ?? "alert"
                alerts.byPipeline[pipelineId + 1, default: []].append(fields["message"]?.stringValue.map { "\(type): \($0)" } ?? type)
            }
            token = page["nextToken"]?.stringValue
        } while token != nil
        return alerts
    }

    /// Every MediaLive channel's state by id (ListChannels, every page).
    func channelStates() throws -> [String: String] {
        var states: [String: String] = [:]
        var token: String?
        repeat {
            var query = "maxResults=1000"
            if let token { query += "&nextToken=" + SignatureV4.uriEncode(token, keepSlash: false) }
            let page = try services.rest(services.medialive, "GET", "/prod/channels", query: query).objectValue ?? [:]
            for channel in page["channels"]?.arrayValue ?? [] {
                if let id = channel.objectValue?["id"]?.stringValue, let state = channel.objectValue?["state"]?.stringValue { states[id] = state }
            }
            token = page["nextToken"]?.stringValue
        } while token != nil
        return states
    }
}

/// A channel's alerts that are set, by pipeline (1, 2; MediaLive's pipeline ids 0, 1), kept in the record's media state.
struct ChannelAlerts: Equatable {
    var byPipeline: [Int: [String]] = [:]

    init() {}

    init(_ mediaState: [String: JSONValue]) {
        for (pipeline, messages) in mediaState["alerts"]?.objectValue ?? [:] {
            guard let number = Int(pipeline) else { continue }
            byPipeline[number] = (messages.arrayValue ?? []).compactMap(\.stringValue)
        }
    }

    func store(into record: inout StreamRecord) {
        record.mediaState["alerts"] = byPipeline.isEmpty
            ? nil : .object(Dictionary(uniqueKeysWithValues: byPipeline.map { (String($0.key), JSONValue.array($0.value.map(JSONValue.string))) }))
    }
}
