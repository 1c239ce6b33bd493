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
        let plans = backends.splitter.clips(segments: segments, nominalSegmentLength: record.segmentLength, ranges: input.ranges)
        let modifier = input.nameModifier ?? Identifier.make()
        let madeAt = String(now())
        let clips = try zip(plans, input.ranges).enumerated().map { index, pair in
            let (plan, asked) = pair
            let name = "index_\(modifier)_\(index)"
            // The note first: a playlist is only listed as a clip once it exists, and then its note does too.
            let clip = ClipReport(index: "", url: nil, asked: asked, plan: plan, madeAt: madeAt)
            _ = try backends.archive.writeFile(root: root, fileName: name + ".json", contents: String(decoding: clip.note.serialized(), as: UTF8.self))
            let key = try backends.archive.writeFile(root: root, fileName: name + ".m3u8", contents: plan.playlist)
            return ClipReport(index: key, url: backends.archive.playbackURL(root: root, fileName: name + ".m3u8"), asked: asked, plan: plan, madeAt: madeAt)
        }
        journal(.splitDone, record, ["session_id": .string(input.sessionId), "indexes": .array(clips.map { .string($0.index) })])
        return clips
    }
}
