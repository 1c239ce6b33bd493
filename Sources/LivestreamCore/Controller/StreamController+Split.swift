extension StreamController {
    /// `POST /streams/{id}/split`: one VOD playlist per range, written beside the session's segments.
    ///
    /// The session is listed once for all ranges; every playlist is computed before any is written.
    /// - Returns: the written keys, in range order.
    public func split(id: String, _ input: SplitInput) throws -> [String] {
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
        let texts = backends.splitter.playlists(segments: segments, nominalSegmentLength: record.segmentLength, ranges: input.ranges)
        let modifier = input.nameModifier ?? Identifier.make()
        let indexes = try texts.enumerated().map { index, text in
            try backends.archive.writePlaylist(root: root, fileName: "index_\(modifier)_\(index).m3u8", contents: text)
        }
        journal(.splitDone, record, ["session_id": .string(input.sessionId), "indexes": .array(indexes.map(JSONValue.string))])
        return indexes
    }
}
