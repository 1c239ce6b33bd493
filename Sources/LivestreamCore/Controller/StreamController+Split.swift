extension StreamController {
    /// `POST /streams/{id}/split`: one VOD playlist per range, written beside the session's segments,
    /// each with a note of the asked and achieved range (`index_<m>_<n>.json`, read by the sessions API).
    ///
    /// The session is listed once for all ranges; every playlist is computed before any is written.
    /// - Returns: the clips, in range order (their `index` is the written playlist's key).
    public func split(id: String, _ input: SplitInput) throws -> [ClipReport] {
        let record = try get(id: id)
        guard let root = record.archivesPath[input.sessionId] else {
            throw ServiceError(.notFound, code: "session_not_found", "stream \(id) has no session \(input.sessionId)")
        }
        guard !input.ranges.isEmpty else { return [] }
        let segments = try backends.archive.listSegments(root: root)
        guard !segments.isEmpty else {
            throw ServiceError(.conflict, code: "no_segments", "session \(input.sessionId) has no archived segments yet")
        }
        // A range past the archive's end gets a playlist without segments (the old deployment's answer).
        var plans = backends.splitter.clips(segments: segments, nominalSegmentLength: record.segmentLength, ranges: input.ranges)
        let modifier = input.nameModifier ?? Identifier.make()
        if input.exact {
            for index in plans.indices {
                plans[index] = try exactly(plans[index], asked: input.ranges[index], root: root, baseName: "index_\(modifier)_\(index)", record: record)
            }
        }
        let madeAt = String(now())
        let clips = try zip(plans, input.ranges).enumerated().map { index, pair in
            let (plan, asked) = pair
            let name = "index_\(modifier)_\(index)"
            // The note first: a playlist is only listed as a clip once it exists, and then its note does too.
            var clip = ClipReport(index: "", url: nil, asked: asked, plan: plan, madeAt: madeAt)
            _ = try backends.archive.writeFile(root: root, fileName: name + ".json", contents: String(decoding: clip.note.serialized(), as: UTF8.self))
            clip.index = try backends.archive.writeFile(root: root, fileName: name + ".m3u8", contents: plan.playlist)
            clip.url = backends.archive.playbackURL(root: root, fileName: name + ".m3u8")
            return clip
        }
        journal(.splitDone, record, ["session_id": .string(input.sessionId), "indexes": .array(clips.map { .string($0.index) })])
        return clips
    }

    /// The clip with its first and last segment cut at the asked times (the archive writes the pieces beside them).
    private func exactly(_ plan: ClipPlan, asked: TimeRange, root: String, baseName: String, record: StreamRecord) throws -> ClipPlan {
        guard let first = plan.entries.first, let last = plan.entries.last else { return plan }
        let start = max(asked.start, first.start)
        let end = min(asked.end, last.end)
        guard end > start else { return plan }
        let margin = 0.001
        var entries = plan.entries
        /// The pieces of `entry` between `from` and `to` (timeline seconds), placed on the timeline, after a discontinuity.
        func cut(_ entry: ClipEntry, from: Double, to: Double, name: String) throws -> [ClipEntry] {
            let pieces = try backends.archive.cutSegment(root: root, segment: entry.uri, from: from - entry.start, to: to - entry.start, baseName: name)
            return pieces.map { ClipEntry(uri: $0.uri, start: entry.start + $0.start, duration: $0.duration, discontinuity: true) }
        }
        if entries.count == 1 {
            if start > first.start + margin || end < first.end - margin { entries = try cut(first, from: start, to: end, name: baseName + "_edge") }
        } else {
            if end < last.end - margin {
                entries.removeLast()
                entries += try cut(last, from: last.start, to: end, name: baseName + "_tail")
            }
            if start > first.start + margin {
                let head = try cut(first, from: start, to: first.end, name: baseName + "_head")
                entries.removeFirst()
                // What followed the cut head is no longer the same file's continuation.
                if !entries.isEmpty { entries[0].discontinuity = true }
                entries.insert(contentsOf: head, at: 0)
            }
        }
        var exact = plan
        exact.entries = entries
        exact.playlist = backends.splitter.playlist(entries, nominalSegmentLength: record.segmentLength)
        let achieved = TimeRange(start: start, end: end)
        exact.achieved = achieved
        exact.gaps = plan.gaps.compactMap { $0.clipped(to: achieved) }
        exact.filled = plan.filled.compactMap { $0.clipped(to: achieved) }
        exact.exact = true
        return exact
    }
}
