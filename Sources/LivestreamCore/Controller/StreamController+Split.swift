extension StreamController {
    /// `POST /streams/{id}/split`: one VOD playlist per range, written beside the session's segments.
    ///
    /// The session is listed once for all ranges; every playlist is computed before
    /// any is written, so a bad range writes nothing.
    /// - Returns: the written keys, in range order.
    public func split(id: String, _ input: SplitInput) throws -> [String] {
        let record = try get(id: id)
        guard let root = record.archivesPath[input.sessionId] else {
            throw ServiceError(.notFound, code: "session_not_found", "stream \(id) has no session \(input.sessionId)")
        }
        let segments = try backends.archive.listSegments(root: root)
        guard !segments.isEmpty else {
            throw ServiceError(.conflict, code: "no_segments", "session \(input.sessionId) has no archived segments yet")
        }
        let playlists = backends.splitter.playlists(segments: segments, nominalSegmentLength: record.segmentLength, ranges: input.ranges)
        var texts: [String] = []
        for (index, playlist) in playlists.enumerated() {
            guard let playlist else {
                let range = input.ranges[index]
                throw ServiceError.badRequest(
                    "timestamp_list[\(index)] (\(range.start)-\(range.end) s) covers no archived segment of session \(input.sessionId)",
                    code: "empty_range")
            }
            texts.append(playlist)
        }
        let modifier = input.nameModifier ?? Identifier.make()
        return try texts.enumerated().map { index, text in
            try backends.archive.writePlaylist(root: root, fileName: "index_\(modifier)_\(index).m3u8", contents: text)
        }
    }
}
