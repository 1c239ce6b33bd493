import Foundation
import Logging

/// The use cases of the REST contract, run against the configured plugins.
///
/// Transport-free: it takes validated inputs and returns records or throws
/// `ServiceError`. Every write is compare-and-set; a use case that touched a backend
/// and then fails to store its result undoes what it did.
public struct StreamController: Sendable {
    public let backends: Backends
    let logger: Logger
    let now: @Sendable () -> Int64
    let problemLog = RecordProblemLog()

    /// - Parameters:
    ///   - backends: the plugin of every seam.
    ///   - logger: for undo failures and other things operators must see.
    ///   - now: epoch seconds; injectable for tests.
    public init(backends: Backends, logger: Logger, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.backends = backends
        self.logger = logger
        self.now = now
    }

    private var store: any StreamStore { backends.store }

    /// `GET /streams/{id}`.
    public func get(id: String) throws -> StreamRecord {
        guard let record = try store.get(id: id) else { throw ServiceError.streamNotFound(id) }
        problemLog.report([record], to: logger)
        return withLiveStatus([record])[0]
    }

    /// The records with each pipeline's status now, as the media backend tells it.
    public func withLiveStatus(_ records: [StreamRecord]) -> [StreamRecord] {
        let status = backends.media.liveStatus(of: records)
        guard !status.isEmpty else { return records }
        return records.map { record in
            var record = record
            record.pipelines = status[record.id]
            return record
        }
    }

    /// `GET /streams/{id}/events`: the stream's journal. A deleted stream's events stay in the feed
    /// (`GET /events`) for the retention; here, like every part of a deleted stream, they are 404.
    public func events(of id: String, after: Int64, limit: Int) throws -> [StreamEvent] {
        let journal = try eventJournal()
        guard try store.get(id: id) != nil else { throw ServiceError.streamNotFound(id) }
        return try journal.events(of: id, after: after, limit: limit)
    }

    /// `GET /events`: every stream's events in the store's one order.
    public func feed(after: Int64, limit: Int) throws -> [StreamEvent] {
        try eventJournal().feed(after: after, limit: limit)
    }

    private func eventJournal() throws -> any EventJournal {
        guard let events = store.events else {
            throw ServiceError(.notImplemented, code: "no_event_journal", "the configured storage backend keeps no event journal yet (the file backend does)")
        }
        return events
    }

    /// `GET /readyz`: each backend's check, nil where it passed (a reason where it did not).
    public func readiness() -> [(backend: String, problem: String?)] {
        func check(_ probe: () throws -> Void) -> String? {
            do {
                try probe()
                return nil
            } catch let error as ServiceError {
                return "\(error.code): \(error.message)"
            } catch {
                return "\(error)"
            }
        }
        return [
            ("storage", check { try store.checkReady() }), ("archive", check { try backends.archive.checkReady() }),
            ("media", check { try backends.media.checkReady() }),
        ]
    }

    /// `GET /streams`: one page, or everything when `limit` is nil.
    public func list(limit: Int?, after token: String?) throws -> StreamPage {
        var page = try store.list(limit: limit, after: token)
        problemLog.report(page.records, to: logger)
        page.records = withLiveStatus(page.records)
        // The page's contents now include the status: a rendered page is reused only while both are the same.
        if let revision = page.revision, page.records.contains(where: { $0.pipelines != nil }) {
            var hasher = Hasher()
            for record in page.records { hasher.combine(record.pipelines) }
            page.revision = revision + "/" + String(hasher.finalize())
        }
        return page
    }

    /// `POST /streams`: builds the pipeline and stores the new record; the pipeline is torn down if storing fails.
    public func create(_ input: CreateStreamInput) throws -> StreamRecord {
        let id = Identifier.make()
        let resources = try backends.media.create(streamId: id, name: input.name, description: input.description, segmentLength: input.segmentLength)
        var record = StreamRecord(id: id, name: input.name, description: input.description, segmentLength: input.segmentLength, lastUpdate: String(now()))
        record.extra = input.extra
        record.rtmp1 = resources.rtmp1
        record.rtmp2 = resources.rtmp2
        record.viewerEndpoint = resources.viewerEndpoint
        record.viewerEndpointCloudfront = backends.cdn.cdnViewerEndpoint(for: resources.viewerEndpoint)
        record.liveChannelId = resources.liveChannelId
        record.liveInputId = resources.liveInputId
        record.packageChannelId = resources.packageChannelId
        record.packageEndpointId = resources.packageEndpointId
        record.ssmPaths = resources.ssmPaths
        record.state = resources.state
        record.mediaState = resources.mediaState
        record.publishing = resources.publishing
        if let storeBy = resources.storeBy, now() > storeBy {
            undo("delete the pipeline of stream \(id), whose create took too long") { try backends.media.delete(record) }
            throw ServiceError(.upstreamTimeout, code: "CreateTimeout", "building the pipeline of the new stream took too long; nothing was kept")
        }
        let stored: StreamRecord
        do {
            stored = try store.create(record)
        } catch {
            // A write whose answer was lost may have landed: a stored record naming these resources is ours.
            guard let found = try? store.get(id: id), found.namesSamePipeline(as: record) else {
                undo("delete the pipeline of unsaved stream \(id)") { try backends.media.delete(record) }
                throw error
            }
            stored = found
        }
        backends.media.created(stored)
        journal(.created, stored, ["name": .string(stored.name)])
        return stored
    }

    /// `POST /streams/{id}`: changes user fields only.
    public func update(id: String, _ input: UpdateStreamInput) throws -> StreamRecord {
        let stored = try mutate(id: id) { record in
            if let name = input.name { record.name = name }
            if let description = input.description { record.description = description }
            record.extra.merge(input.extra) { _, new in new }
        }
        let fields = (input.name == nil ? [] : ["name"]) + (input.description == nil ? [] : ["description"]) + input.extra.keys.sorted()
        journal(.updated, stored, ["fields": .array(fields.map(JSONValue.string))])
        return stored
    }

    /// `POST /streams/{id}/start`: a new session archived under a new root; the channel starts.
    public func start(id: String, _ input: StartStreamInput) throws -> StreamRecord {
        var record = try get(id: id)
        guard !record.started else { throw ServiceError.stateConflict("stream \(id) is already started") }
        let startedAt = now()
        let root = try backends.archive.sessionRoot(streamId: id, startedAt: startedAt, requestedPath: input.path)
        let plan = SessionPlan(sessionId: Identifier.make(), archiveRoot: root, segmentLength: record.segmentLength)

        let startover = input.startoverWindowSeconds ?? record.startoverWindowSeconds
        let keyRotation = input.keyRotationInterval ?? record.keyRotationInterval
        let packagingChanged = startover != record.startoverWindowSeconds || keyRotation != record.keyRotationInterval
        if packagingChanged {
            do {
                try backends.media.updatePackaging(record, startoverWindowSeconds: startover, keyRotationInterval: keyRotation)
            } catch {
                restorePackaging(record)  // the change may have landed with its answer lost
                throw error
            }
        }
        let status: MediaStatus
        do {
            status = try backends.media.start(record, session: plan)
        } catch {
            if packagingChanged { restorePackaging(record) }
            throw error
        }
        let previous = record
        let sessionStarted: (inout StreamRecord) throws -> Void = { current in
            guard !current.started else { throw ServiceError.stateConflict("stream \(id) was started by another request") }
            current.started = true
            current.lastStarted = String(startedAt)
            current.currentSessionId = plan.sessionId
            current.archivesPath[plan.sessionId] = root
            current.sessionTimes[plan.sessionId] = SessionTimes(started: String(startedAt))
            current.archiveLastError = nil
            current.archiveLastErrorAt = nil
            current.archiveSegments = nil
            current.archiveLastSegmentAt = nil
            current.startoverWindowSeconds = startover
            current.keyRotationInterval = keyRotation
            current.state = status.state
            current.mediaState = status.mediaState
        }
        do {
            // Re-applied on a version conflict: a background state refresh may have written the record meanwhile.
            let stored = try mutate(id: id, touch: false, sessionStarted)
            journal(.started, stored, ["session_id": .string(plan.sessionId)])
            return stored
        } catch let error as ServiceError where error.code == .stateConflict {
            throw error  // the channel belongs to the start that won
        } catch {
            record.started = true
            undo("stop stream \(id) after its start could not be stored") { _ = try backends.media.stop(record) }
            if packagingChanged { restorePackaging(previous) }
            // The write may have landed with its answer lost: then the record must say stopped too,
            // with the packaging the endpoint was given back.
            undo("mark stream \(id) stopped after its start could not be confirmed") {
                _ = try mutate(id: id, touch: false) { current in
                    guard current.started, current.currentSessionId == plan.sessionId else { return }
                    current.started = false
                    current.lastStopped = String(now())
                    current.sessionTimes[plan.sessionId]?.stopped = current.lastStopped
                    current.startoverWindowSeconds = previous.startoverWindowSeconds
                    current.keyRotationInterval = previous.keyRotationInterval
                }
            }
            throw error
        }
    }

    /// `POST /streams/{id}/stop`: the record says stopped first (so a reconnecting encoder is refused), then the channel stops.
    ///
    /// Stopping a stopped stream only records the time again (`last_stopped`), as the old deployment did.
    public func stop(id: String) throws -> StreamRecord {
        let stoppedAt = String(now())
        var wasStarted = false
        var previousStop: String?
        let saved = try mutate(id: id, touch: false) { current in
            wasStarted = current.started
            previousStop = current.lastStopped
            current.started = false
            current.lastStopped = stoppedAt
            if wasStarted, let session = current.currentSessionId { current.sessionTimes[session]?.stopped = stoppedAt }
        }
        guard wasStarted else { return saved }
        let status: MediaStatus
        do {
            status = try backends.media.stop(saved)
        } catch {
            undo("mark stream \(id) started again after its channel failed to stop") {
                // Re-read on conflict: a background state refresh may have written the record meanwhile.
                _ = try mutate(id: id, touch: false) { current in
                    guard !current.started, current.lastStopped == saved.lastStopped else { return }
                    current.started = true
                    current.lastStopped = previousStop
                    if let session = current.currentSessionId { current.sessionTimes[session]?.stopped = nil }
                }
            }
            throw error
        }
        journal(.stopped, saved, ["session_id": saved.currentSessionId.map(JSONValue.string) ?? .null])
        guard status.mediaState != saved.mediaState || status.state != saved.state else { return saved }
        do {
            return try mutate(id: id, touch: false) { record in
                // Unchanged media state stays as the record has it now (hooks may have written it since).
                if status.mediaState != saved.mediaState { record.mediaState = status.mediaState }
                record.state = status.state
            }
        } catch {
            // The stop took effect (stored, channel stopped): a lost race on the follow-up write is no
            // reason to answer an error. The state catches up with the next write or refresh.
            logger.warning("stream stopped, but its channel state could not be stored", metadata: ["stream": "\(id)", "error": "\(error)"])
            var answer = (try? get(id: id)) ?? saved
            answer.state = status.state
            return answer
        }
    }

    /// `POST /streams/{id}/live`: puts the stream on the live distribution.
    ///
    /// A failure (of the distribution's edit, whose answer may have been lost after it landed, or
    /// of the record's write) is undone on the distribution, so it agrees with the record.
    public func associateLive(id: String) throws -> StreamRecord {
        let record = try get(id: id)
        do {
            try backends.cdn.associate(record)
            let stored = try mutate(id: id, touch: false) { record in
                record.cloudfrontAssociated = true
                record.viewerEndpointCloudfront = backends.cdn.cdnViewerEndpoint(for: record.viewerEndpoint)
            }
            if !record.cloudfrontAssociated { journal(.cdnAssociated, stored, ["viewer_endpoint_cloudfront": .string(stored.viewerEndpointCloudfront)]) }
            return stored
        } catch {
            if !record.cloudfrontAssociated { undo("take stream \(id) off the live distribution again") { try backends.cdn.dissociate(record) } }
            throw error
        }
    }

    /// `DELETE /streams/{id}/live`: takes the stream off the live distribution (a failure is undone as in `associateLive`).
    public func dissociateLive(id: String) throws -> StreamRecord {
        let record = try get(id: id)
        do {
            try backends.cdn.dissociate(record)
            let stored = try mutate(id: id, touch: false) { $0.cloudfrontAssociated = false }
            if record.cloudfrontAssociated { journal(.cdnDissociated, stored) }
            return stored
        } catch {
            if record.cloudfrontAssociated { undo("put stream \(id) back on the live distribution") { try backends.cdn.associate(record) } }
            throw error
        }
    }

    /// `DELETE /streams/{id}`: tears everything down and returns the record as it was.
    public func delete(id: String) throws -> StreamRecord {
        let record = try get(id: id)
        if record.cloudfrontAssociated { try backends.cdn.dissociate(record) }
        try backends.media.delete(record)
        var current = record
        for _ in 0..<StreamController.maxAttempts {
            do {
                try store.delete(current)
                journal(.deleted, current)
                return record
            } catch let error as ServiceError where error.code == .versionConflict {
                guard let latest = try store.get(id: id) else { return record }
                current = latest
            } catch let error as ServiceError where error.code == .streamNotFound {
                return record  // gone: deleted by this call's own earlier attempt, whose answer was lost, or by another request
            }
        }
        throw ServiceError.versionConflict(id)
    }

    /// How often a delete is retried after a version conflict.
    static let maxAttempts = 8

    /// Read, change, compare-and-set, retried on version conflicts (only other writers cause them).
    func mutate(id: String, touch: Bool = true, _ change: (inout StreamRecord) throws -> Void) throws -> StreamRecord {
        let stored = try store.update(id: id, attempts: StreamController.maxAttempts) { record in
            try change(&record)
            if touch { record.lastUpdate = String(now()) }
        }
        guard let stored else { throw ServiceError.streamNotFound(id) }
        return stored
    }

    private func restorePackaging(_ record: StreamRecord) {
        undo("restore the packaging settings of stream \(record.id)") {
            try backends.media.updatePackaging(record, startoverWindowSeconds: record.startoverWindowSeconds, keyRotationInterval: record.keyRotationInterval)
        }
    }

    /// Journals a change the use case stored; `data.version` is the record's version after it.
    func journal(_ type: EventType, _ record: StreamRecord, _ data: [String: JSONValue] = [:]) {
        store.journal(type, streamId: record.id, data: data.merging(["version": .int(Int64(record.version))]) { _, new in new }, logger: logger)
    }

    /// Runs a compensating step; its failure is logged (the original error is what the client sees).
    func undo(_ what: String, _ step: () throws -> Void) {
        do {
            try step()
        } catch {
            logger.error("undo failed: could not \(what)", metadata: ["error": "\(error)"])
        }
    }
}
