/// Places a session's segments on its timeline and turns ranges of it into VOD playlists (seam `splitter`).
///
/// Pure functions of their inputs, so any archive backend can reuse them; the sessions API
/// reports the same timeline the clips are cut from.
public protocol ArchiveSplitter: Sendable {
    /// One clip per range, in order; a range no segment overlaps gets a playlist without segments.
    /// - Parameters:
    ///   - segments: the session's segments (both pipelines), in any order.
    ///   - nominalSegmentLength: the configured rollover, used only for segments of unknown length.
    ///   - ranges: `[start, end)` in seconds from the session's start.
    func clips(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [ClipPlan]

    /// What the segments cover on the session's timeline, per pipeline, and where neither pipeline has anything.
    func coverage(segments: [ArchiveSegment], nominalSegmentLength: Int) -> SessionCoverage

    /// A VOD playlist of the entries, in order (how an exact clip's playlist is written once its edges are cut).
    func playlist(_ entries: [ClipEntry], nominalSegmentLength: Int) -> String
}

/// One file a clip's playlist lists, where it sits on the session's timeline.
public struct ClipEntry: Sendable, Equatable {
    /// The file name beside the playlist (a segment's, or a cut edge's).
    public var uri: String
    public var start: Double
    public var duration: Double
    /// The player must reset before it (another pipeline, a hole, a cut edge).
    public var discontinuity: Bool

    public init(uri: String, start: Double, duration: Double, discontinuity: Bool = false) {
        self.uri = uri
        self.start = start
        self.duration = duration
        self.discontinuity = discontinuity
    }

    public var end: Double { start + duration }
}

/// A half-open interval `[start, end)` in seconds on a session's timeline.
public struct TimeRange: Sendable, Equatable {
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }

    public var length: Double { end - start }

    /// The part inside `bounds`; nil when none is.
    public func clipped(to bounds: TimeRange) -> TimeRange? {
        let part = TimeRange(start: max(start, bounds.start), end: min(end, bounds.end))
        return part.end > part.start ? part : nil
    }

    /// `{"start", "end"}`, in milliseconds' precision.
    public var jsonValue: JSONValue {
        ["start": .double(TimeRange.rounded(start)), "end": .double(TimeRange.rounded(end))]
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    /// Touching or overlapping ranges joined, in order.
    public static func merged(_ ranges: [TimeRange]) -> [TimeRange] {
        var merged: [TimeRange] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) where range.end > range.start {
            if let last = merged.last, range.start <= last.end + 0.0005 {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

/// One clip as the splitter cut it.
public struct ClipPlan: Sendable, Equatable {
    /// The VOD playlist.
    public var playlist: String
    /// The range the listed segments span (segment boundaries around the asked range); nil: no segment overlaps.
    public var achieved: TimeRange?
    /// The pipeline the clip plays (nil: no segment).
    public var pipeline: Int?
    /// Parts where that pipeline had no segment and the other pipeline's was listed.
    public var filled: [TimeRange]
    /// Parts inside `achieved` that neither pipeline has (the player skips them at a discontinuity).
    public var gaps: [TimeRange]
    /// What the playlist lists.
    public var entries: [ClipEntry]
    /// The edges were cut at the asked times rather than at segment boundaries.
    public var exact: Bool

    public init(
        playlist: String, achieved: TimeRange?, pipeline: Int?, filled: [TimeRange] = [], gaps: [TimeRange] = [], entries: [ClipEntry] = [], exact: Bool = false
    ) {
        self.playlist = playlist
        self.entries = entries
        self.exact = exact
        self.achieved = achieved
        self.pipeline = pipeline
        self.filled = filled
        self.gaps = gaps
    }
}

/// A session's archive on its timeline.
public struct SessionCoverage: Sendable, Equatable {
    /// From the first segment's start to the last one's end, in seconds.
    public var duration: Double
    /// Per pipeline (1, 2), the ranges its segments cover, merged; a pipeline without segments is absent.
    public var covered: [Int: [TimeRange]]
    /// Ranges no pipeline covers.
    public var gaps: [TimeRange]

    public init(duration: Double, covered: [Int: [TimeRange]], gaps: [TimeRange]) {
        self.duration = duration
        self.covered = covered
        self.gaps = gaps
    }
}
