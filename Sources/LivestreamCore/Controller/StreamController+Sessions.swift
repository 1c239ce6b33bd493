extension StreamController {
    /// `GET /streams/{id}/sessions`: every session of the stream, oldest first (one archive listing each).
    public func sessions(id: String) throws -> [SessionReport] {
        let record = try get(id: id)
        return try record.archivesPath.map { try report(record, session: $0.key, root: $0.value) }
            .sorted { (Int64($0.startedAt ?? "") ?? .max, $0.sessionId) < (Int64($1.startedAt ?? "") ?? .max, $1.sessionId) }
    }

    /// `GET /streams/{id}/sessions/{session_id}`.
    public func session(id: String, sessionId: String) throws -> SessionReport {
        let record = try get(id: id)
        return try report(record, session: sessionId, root: try checkedSession(record, sessionId))
    }

    /// `DELETE /streams/{id}/sessions/{session_id}`: removes the session's archive and clips, then the session
    /// from the record (so a failure part-way leaves it listed, to delete again).
    /// - Returns: how many files were removed.
    public func deleteSession(id: String, sessionId: String) throws -> Int {
        let record = try get(id: id)
        let root = try checkedSession(record, sessionId)
        try refuseLive(record, sessionId)
        if let other = record.archivesPath.first(where: { $0.key != sessionId && $0.value == root })?.key {
            throw ServiceError(.conflict, code: "archive_shared", "session \(sessionId) shares its archive \(root) with session \(other); nothing was removed")
        }
        let removed = try backends.archive.deleteSession(root: root)
        let stored = try mutate(id: id, touch: false) { current in
            try refuseLive(current, sessionId)
            current.archivesPath[sessionId] = nil
            current.sessionTimes[sessionId] = nil
        }
        journal(.sessionDeleted, stored, ["session_id": .string(sessionId), "files": .int(Int64(removed))])
        return removed
    }

    private func checkedSession(_ record: StreamRecord, _ sessionId: String) throws -> String {
        guard let root = record.archivesPath[sessionId] else {
            throw ServiceError(.notFound, code: "session_not_found", "stream \(record.id) has no session \(sessionId)")
        }
        return root
    }

    private func refuseLive(_ record: StreamRecord, _ sessionId: String) throws {
        guard !(record.started && record.currentSessionId == sessionId) else {
            throw ServiceError(.conflict, code: "session_live", "session \(sessionId) is live; stop the stream first")
        }
    }

    private func report(_ record: StreamRecord, session: String, root: String) throws -> SessionReport {
        let files = try backends.archive.listSession(root: root)
        let coverage = backends.splitter.coverage(segments: files.segments, nominalSegmentLength: record.segmentLength)
        let pipelines = [1, 2].compactMap { pipeline -> SessionReport.PipelineArchive? in
            let own = files.segments.filter { $0.pipeline == pipeline }
            guard !own.isEmpty else { return nil }
            let sizes = own.compactMap(\.bytes)
            return SessionReport.PipelineArchive(pipeline: pipeline, segments: own.count, bytes: sizes.count == own.count ? sizes.reduce(0, +) : nil)
        }
        let notes = Set(files.others.filter { $0.hasPrefix("index_") && $0.hasSuffix(".json") })
        let clips = try files.others.filter { $0.hasPrefix("index_") && $0.hasSuffix(".m3u8") }.sorted().map { playlist in
            let note = String(playlist.dropLast(".m3u8".count)) + ".json"
            let text = notes.contains(note) ? try backends.archive.readFile(root: root, fileName: note) : nil
            return ClipReport(
                index: try backends.archive.fileKey(root: root, fileName: playlist), url: backends.archive.playbackURL(root: root, fileName: playlist),
                note: text.flatMap { try? JSONValue.parse(Array($0.utf8)) })
        }
        let live = record.started && record.currentSessionId == session
        let (started, stopped) = times(record, session: session, root: root, live: live)
        let end = live ? Double(now()) : stopped.flatMap { Double($0) }
        let duration = started.flatMap { Double($0) }.flatMap { start in end.map { max(0, $0 - start) } }
        return SessionReport(
            sessionId: session, startedAt: started, stoppedAt: live ? nil : stopped, live: live, durationSeconds: duration,
            archiveRoot: root, archiveURL: backends.archive.playbackURL(root: root, fileName: ""), coverage: coverage,
            pipelines: pipelines, clips: clips)
    }

    /// When a session started and stopped: as recorded by this service; for sessions the old deployment ran, the
    /// record's last start and stop for the current one, or the epoch in a dated folder's name (`<id>-<epoch>/`).
    private func times(_ record: StreamRecord, session: String, root: String, live: Bool) -> (String?, String?) {
        if let times = record.sessionTimes[session] { return (times.started, times.stopped) }
        if session == record.currentSessionId {
            let stopped = live ? nil : record.lastStopped.flatMap { stop in (Int64(stop) ?? 0) >= (Int64(record.lastStarted ?? "") ?? .max) ? stop : nil }
            return (record.lastStarted, stopped)
        }
        let folder = root.hasSuffix("/") ? root.dropLast().split(separator: "/").last.map(String.init) ?? "" : ""
        let prefix = record.id + "-"
        guard folder.hasPrefix(prefix), let epoch = folder.dropFirst(prefix.count).split(separator: "-").first.flatMap({ Int64($0) }) else {
            return (nil, nil)
        }
        return (String(epoch), nil)
    }
}
