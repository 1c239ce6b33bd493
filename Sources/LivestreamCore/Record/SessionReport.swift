/// A session as `GET /streams/{id}/sessions` tells it: its times, what its archive holds, and its clips.
public struct SessionReport: Sendable, Equatable {
    public var sessionId: String
    /// Epoch seconds as text, as the record keeps `last_started`; nil where nothing recorded it.
    public var startedAt: String?
    public var stoppedAt: String?
    /// Whether it is the running session of a started stream.
    public var live: Bool
    /// Stop (or now, while live) minus start, in seconds; nil without both.
    public var durationSeconds: Double?
    /// The archive root (`archives_path[session]`): `file://...` or `s3://...`.
    public var archiveRoot: String
    /// The session folder over HTTP(S), where the archive is served.
    public var archiveURL: String?
    public var coverage: SessionCoverage
    public var pipelines: [PipelineArchive]
    public var clips: [ClipReport]

    /// One pipeline's part of the archive.
    public struct PipelineArchive: Sendable, Equatable {
        public var pipeline: Int
        public var segments: Int
        /// Nil where the archive does not list sizes.
        public var bytes: Int64?

        public init(pipeline: Int, segments: Int, bytes: Int64?) {
            self.pipeline = pipeline
            self.segments = segments
            self.bytes = bytes
        }
    }

    public var jsonValue: JSONValue {
        [
            "session_id": .string(sessionId),
            "started_at": startedAt.map(JSONValue.string) ?? .null,
            "stopped_at": stoppedAt.map(JSONValue.string) ?? .null,
            "live": .bool(live),
            "duration_seconds": durationSeconds.map(JSONValue.double) ?? .null,
            "archive": ["root": .string(archiveRoot), "url": archiveURL.map(JSONValue.string) ?? .null, "seconds": .double(TimeRange.rounded(coverage.duration))],
            "pipelines": .array(pipelines.map { part in
                let covered = coverage.covered[part.pipeline] ?? []
                return [
                    "pipeline": .int(Int64(part.pipeline)), "segments": .int(Int64(part.segments)),
                    "bytes": part.bytes.map(JSONValue.int) ?? .null, "covered": .array(covered.map(\.jsonValue)),
                    "seconds": .double(TimeRange.rounded(covered.reduce(0) { $0 + $1.length })),
                ]
            }),
            "gaps": .array(coverage.gaps.map(\.jsonValue)),
            "clips": .array(clips.map(\.jsonValue)),
        ]
    }
}

/// A clip split made: its playlist and, where split noted them, what was asked and achieved.
public struct ClipReport: Sendable, Equatable {
    /// The playlist's key, as split's `indexes` reported it.
    public var index: String
    public var url: String?
    /// Nil for clips written before clips were noted (or by the old deployment).
    public var asked: TimeRange?
    public var plan: ClipPlan?
    /// Epoch seconds as text.
    public var madeAt: String?

    public init(index: String, url: String?, asked: TimeRange?, plan: ClipPlan?, madeAt: String?) {
        self.index = index
        self.url = url
        self.asked = asked
        self.plan = plan
        self.madeAt = madeAt
    }

    public var jsonValue: JSONValue {
        [
            "index": .string(index), "url": url.map(JSONValue.string) ?? .null,
            "asked": asked?.jsonValue ?? .null, "achieved": plan?.achieved?.jsonValue ?? .null,
            "pipeline": plan?.pipeline.map { .int(Int64($0)) } ?? .null,
            "filled": plan.map { .array($0.filled.map(\.jsonValue)) } ?? .null,
            "gaps": plan.map { .array($0.gaps.map(\.jsonValue)) } ?? .null,
            "exact": plan.map { .bool($0.exact) } ?? .null,
            "made_at": madeAt.map(JSONValue.string) ?? .null,
        ]
    }

    /// The note split writes beside the playlist (`index_<m>_<n>.json`), read back by the sessions API.
    var note: JSONValue {
        guard case .object(var object) = jsonValue else { return .null }
        object["index"] = nil
        object["url"] = nil
        return .object(object)
    }

    /// A clip from its note; nil members stay unknown.
    init(index: String, url: String?, note: JSONValue?) {
        self.init(index: index, url: url, asked: nil, plan: nil, madeAt: nil)
        guard case .object(let object)? = note else { return }
        asked = ClipReport.range(object["asked"])
        madeAt = object["made_at"]?.stringValue
        let pipeline: Int? = if case .int(let number)? = object["pipeline"] { Int(number) } else { nil }
        plan = ClipPlan(
            playlist: "", achieved: ClipReport.range(object["achieved"]), pipeline: pipeline,
            filled: ClipReport.ranges(object["filled"]), gaps: ClipReport.ranges(object["gaps"]), exact: object["exact"] == .bool(true))
    }

    private static func range(_ value: JSONValue?) -> TimeRange? {
        guard case .object(let object)? = value, let start = object["start"]?.doubleValue, let end = object["end"]?.doubleValue else { return nil }
        return TimeRange(start: start, end: end)
    }

    private static func ranges(_ value: JSONValue?) -> [TimeRange] {
        guard case .array(let list)? = value else { return [] }
        return list.compactMap { range($0) }
    }
}
