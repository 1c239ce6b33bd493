import Foundation
import LivestreamCore

/// The nginx-rtmp callbacks (`on_publish`, `on_publish_done`) and the archiver's question.
extension LocalMediaPipeline {
    /// `on_publish`: 302 to the public name when the key is right, the stream started and the pipeline free; 403 otherwise.
    func publish(_ request: InternalRequest) throws -> InternalResponse {
        let key = request.fields["name"] ?? ""
        guard request.fields["app"] == settings.ingestApp else { return refuse("publish to an unknown application") }
        guard let client = request.fields["clientid"], !client.isEmpty else { return refuse("publish without a client id") }
        guard let streamId = IngestKey.streamId(of: key), let record = try store.get(id: streamId),
            let pipeline = IngestKey.pipeline(of: key, in: record)
        else {
            return refuse("publish with an unknown stream key")
        }
        guard record.started else { return refuse("publish to stopped stream \(streamId)") }
        // A busy slot: ask nginx-rtmp whether its publisher is still there.
        let listed = Publishers(record.mediaState).clients[pipeline] == nil ? nil : nginxPublishers()
        var accepted = false
        let stored = try updateMediaState(streamId) { record in
            var publishers = Publishers(record.mediaState)
            if let holder = publishers.clients[pipeline], liveness.isGone(holder, listedByNginx: listed) {
                // Its on_publish_done was lost (livestreamd was down): nginx-rtmp no longer has it.
                logger.notice("freed a publisher slot whose publisher is gone", metadata: ["stream": "\(streamId)", "pipeline": "\(pipeline)", "client": "\(holder)"])
                publishers.clients[pipeline] = nil
            }
            guard record.started, publishers.clients[pipeline] == nil else {
                accepted = false
                return
            }
            publishers.clients[pipeline] = client
            publishers.since[pipeline] = String(Int64(wallClock()))
            publishers.store(into: &record)
            accepted = true
        }
        guard accepted else { return refuse("second publisher on pipeline \(pipeline) of stream \(streamId)") }
        liveness.accepted(client)
        journal(.publisherConnected, streamId, ["pipeline": .int(Int64(pipeline))], version: stored?.version)
        logger.info("publisher accepted", metadata: ["stream": "\(streamId)", "pipeline": "\(pipeline)", "client": "\(client)"])
        // A bare name in Location renames the stream for everything after the hook (see docs/FINDINGS.md).
        return InternalResponse(status: 302, headers: [("Location", IngestKey.publicName(streamId: streamId, pipeline: pipeline))])
    }

    /// `on_publish_done`: forgets the publisher (matched by client id; `name` is still the key).
    func publishDone(_ request: InternalRequest) throws -> InternalResponse {
        guard let streamId = IngestKey.streamId(of: request.fields["name"] ?? ""), let client = request.fields["clientid"] else {
            return InternalResponse(status: 200)
        }
        var gone: [Int] = []
        let stored = try updateMediaState(streamId) { record in
            var publishers = Publishers(record.mediaState)
            gone = publishers.clients.filter { $0.value == client }.keys.sorted()
            publishers.clients = publishers.clients.filter { $0.value != client }
            publishers.store(into: &record)
        }
        for pipeline in gone { journal(.publisherDisconnected, streamId, ["pipeline": .int(Int64(pipeline))], version: stored?.version) }
        return InternalResponse(status: 200)
    }

    /// `on_update`, every few seconds for each publisher and player of the ingest
    /// application, from whichever nginx worker holds it: 403 drops it.
    ///
    /// Publishers (`update_publish`, named by their key) stay while their stream is started
    /// and they hold its pipeline; players (the HLS relay and the archiver, by public name)
    /// while the stream is started. This is what stops a stream whose publisher an
    /// `rtmp_control` drop cannot reach (an older worker after `nginx -s reload`).
    func update(_ request: InternalRequest) throws -> InternalResponse {
        let name = request.fields["name"] ?? ""
        let client = request.fields["clientid"] ?? ""
        if request.fields["call"] == "update_publish" {
            guard let streamId = IngestKey.streamId(of: name), let record = try store.get(id: streamId),
                let pipeline = IngestKey.pipeline(of: name, in: record)
            else {
                return drop("an unknown publisher")
            }
            guard record.started, Publishers(record.mediaState).clients[pipeline] == client else {
                return drop("the publisher of pipeline \(pipeline) of stopped or re-published stream \(streamId)")
            }
            liveness.seen(client)
            return InternalResponse(status: 200)
        }
        guard let (streamId, _) = IngestKey.parsePublicName(name), let record = try store.get(id: streamId), record.started else {
            return drop("a player of a stopped or unknown stream")
        }
        return InternalResponse(status: 200)
    }

    /// `on_publish` of the failover application: which pipeline's relay viewers see.
    ///
    /// The primary's relay is admitted; if the backup's relay holds the stream id there, it
    /// is dropped first and the primary refused once (its relay retries within a second).
    /// The backup's relay is admitted, renamed to the stream id, only while the primary has
    /// no live encoder; until then it is refused quietly and retries every second.
    func failover(_ request: InternalRequest) throws -> InternalResponse {
        guard relayCarriesToken(request) else { return refuse("publish into the failover application from outside the ingest application") }
        guard let (streamId, pipeline) = IngestKey.parsePublicName(request.fields["name"] ?? ""), let record = try store.get(id: streamId),
            record.started, let encoder = Publishers(record.mediaState).clients[pipeline]
        else {
            return refuse("a relay for a stream without an accepted encoder")
        }
        if pipeline == 1 {
            // Only when the backup was admitted last: asking nginx costs a round trip to its busy worker.
            guard record.mediaState[Self.viewersFollowBackup] != nil else { return InternalResponse(status: 200) }
            let dropped = dropViewerRelay(of: streamId)
            try updateMediaState(streamId) { $0.mediaState[Self.viewersFollowBackup] = nil }
            if dropped {
                logger.notice("viewers return to the primary pipeline", metadata: ["stream": "\(streamId)", "client": "\(encoder)"])
                return InternalResponse(status: 403, body: "retry\n")
            }
            return InternalResponse(status: 200)
        }
        if let primary = Publishers(record.mediaState).clients[1], liveness.isAlive(primary) {
            return InternalResponse(status: 403, body: "the primary publishes\n")
        }
        try updateMediaState(streamId) { $0.mediaState[Self.viewersFollowBackup] = .bool(true) }
        logger.notice("viewers follow the backup pipeline", metadata: ["stream": "\(streamId)", "client": "\(encoder)"])
        return InternalResponse(status: 302, headers: [("Location", streamId)])
    }

    /// Media state key set while the backup's relay may hold the viewers' name.
    static let viewersFollowBackup = "viewers_follow_backup"

    /// `on_publish` of the HLS application: only the failover application's relay, for a
    /// stream with an accepted encoder, may publish live HLS.
    func relay(_ request: InternalRequest) throws -> InternalResponse {
        guard relayCarriesToken(request) else { return refuse("publish into live HLS from outside the ingest application") }
        guard let (streamId, pipeline) = IngestKey.parsePublicName(request.fields["name"] ?? ""), pipeline == 1,
            let record = try store.get(id: streamId), record.started, !Publishers(record.mediaState).isEmpty
        else {
            return refuse("publish into live HLS for a stream without an accepted encoder")
        }
        return InternalResponse(status: 200)
    }

    /// nginx-rtmp's relays carry the token as their page URL; a local ffmpeg does not know it.
    private func relayCarriesToken(_ request: InternalRequest) -> Bool {
        guard let token = settings.internalToken else { return true }
        return constantTimeEquals(request.fields["pageurl"] ?? "", token)
    }

    private func drop(_ what: String) -> InternalResponse {
        logger.notice("dropping \(what)")
        return InternalResponse(status: 403, body: "stopped\n")
    }

    /// The archiver's question: where does this public stream's segments go?
    ///
    /// Answers five lines: session folder, file name prefix (`[<stem>]_<pipeline>-<session start>`),
    /// first counter, segment length, and where to keep the pipeline's thumbnail (in the stream's
    /// live folder; empty without `media.local.hls_directory`). The counter is the wall-clock slot of the session
    /// (`elapsed / segment_length + 1`), so a pipeline that starts or restarts late numbers
    /// its segments where they belong in time and the splitter lines both pipelines up to
    /// within a segment; it never falls back behind segments already there (no overwrite).
    func archiveTarget(_ request: InternalRequest) throws -> InternalResponse {
        guard let (streamId, pipeline) = IngestKey.parsePublicName(request.fields["name"] ?? ""),
            let record = try store.get(id: streamId)
        else {
            return InternalResponse(status: 404, body: "unknown stream\n")
        }
        guard let target = SessionArchive(of: record, pipeline: pipeline) else {
            return InternalResponse(status: 409, body: "stream is not started\n")
        }
        let existing = (try? archive.listSegments(root: target.root)) ?? []
        let continued = (existing.filter { $0.pipeline == pipeline }.map(\.counter).max() ?? 0) + 1
        let sessionStart = Double(record.lastStarted ?? "") ?? wallClock()
        let slot = Int(max(0, wallClock() - sessionStart) / Double(max(1, record.segmentLength))) + 1
        let next = max(continued, slot)
        logger.info("archiver started", metadata: ["stream": "\(streamId)", "pipeline": "\(pipeline)", "first_segment": "\(next)"])
        let thumbnail = settings.hlsDirectory.map { "\($0)/\(streamId)/\(Self.thumbnailName(pipeline))" } ?? ""
        return InternalResponse(status: 200, body: "\(target.folder)\n\(target.prefix)\n\(next)\n\(record.segmentLength)\n\(thumbnail)\n")
    }

    /// The archiver finished a segment (`file`, its name in the session folder): counted on the record.
    ///
    /// Only segments of the current session count (their names carry the session's prefix);
    /// a late report from an earlier session is ignored.
    func archiveSegment(_ request: InternalRequest) throws -> InternalResponse {
        guard let (streamId, pipeline) = IngestKey.parsePublicName(request.fields["name"] ?? "") else {
            return InternalResponse(status: 404, body: "unknown stream\n")
        }
        let file = request.fields["file"] ?? ""
        let at = String(Int64(wallClock()))
        var counted = false
        try updateMediaState(streamId) { record in
            guard let session = SessionArchive(of: record, pipeline: pipeline), file.hasPrefix(session.prefix + "."), file.hasSuffix(".ts"), !file.contains("/") else {
                counted = false
                return
            }
            record.archiveSegments = (record.archiveSegments ?? 0) + 1
            record.archiveLastSegmentAt = at
            counted = true
        }
        if counted { ServiceMetrics.archiveSegment("written") }
        return InternalResponse(status: counted ? 200 : 409, body: counted ? "" : "not a segment of the current session\n")
    }

    /// The archiver could not archive (no folder, cannot write, ffmpeg failed): logged, and on the record.
    func archiveFailed(_ request: InternalRequest) throws -> InternalResponse {
        guard let (streamId, pipeline) = IngestKey.parsePublicName(request.fields["name"] ?? "") else {
            return InternalResponse(status: 404, body: "unknown stream\n")
        }
        // The archiver's own words, one line, bounded; it only ever sees public names.
        let reason = String((request.fields["reason"] ?? "unknown").prefix(300).map { $0.isNewline ? " " : $0 })
        logger.error("archive failed", metadata: ["stream": "\(streamId)", "pipeline": "\(pipeline)", "reason": "\(reason)"])
        ServiceMetrics.archiveSegment("failed")
        let at = String(Int64(Date().timeIntervalSince1970))
        try updateMediaState(streamId) { record in
            record.archiveLastError = "pipeline \(pipeline): \(reason)"
            record.archiveLastErrorAt = at
        }
        journal(.archiveFailed, streamId, ["pipeline": .int(Int64(pipeline)), "reason": .string(reason)])
        return InternalResponse(status: 200)
    }

    private func refuse(_ reason: String) -> InternalResponse {
        logger.notice("publish refused", metadata: ["reason": "\(reason)"])
        return InternalResponse(status: 403, body: "refused\n")
    }

    /// Journals what a hook changed (already stored).
    /// - Parameter version: the record's version after the change, when the hook wrote it.
    func journal(_ type: EventType, _ streamId: String, _ data: [String: JSONValue], version: Int? = nil) {
        var data = data
        if let version { data["version"] = .int(Int64(version)) }
        store.journal(type, streamId: streamId, data: data, at: Int64(wallClock() * 1000), logger: logger)
    }

    /// Compare-and-set of the record's media state, retried on version conflicts.
    @discardableResult
    func updateMediaState(_ streamId: String, _ change: (inout StreamRecord) -> Void) throws -> StreamRecord? {
        try store.update(id: streamId, change)
    }
}
