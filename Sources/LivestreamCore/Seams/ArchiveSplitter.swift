/// Turns a session's segment listing into VOD playlists (seam `splitter`).
///
/// A pure function of its inputs, so any archive backend can reuse it.
public protocol ArchiveSplitter: Sendable {
    /// One playlist per range, in order; a range no segment overlaps gets a playlist without segments.
    /// - Parameters:
    ///   - segments: the session's segments (both pipelines), in any order.
    ///   - nominalSegmentLength: the configured rollover, used only for segments of unknown length.
    ///   - ranges: `[start, end)` in seconds from the session's start.
    func playlists(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [String]
}

/// A half-open interval `[start, end)` in seconds on a session's timeline.
public struct TimeRange: Sendable, Equatable {
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }
}
