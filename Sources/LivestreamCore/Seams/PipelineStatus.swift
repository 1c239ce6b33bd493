/// What the media backend can tell about one pipeline of a stream now (`pipelines` on every
/// record the API answers; never stored). nil fields: the backend cannot tell.
public struct PipelineStatus: Sendable, Hashable {
    /// 1 primary, 2 backup.
    public var pipeline: Int
    /// An encoder is connected to this pipeline's ingest.
    public var publishing: Bool?
    /// Since when the encoder is connected (epoch seconds).
    public var publishingSince: String?
    /// Viewers see this pipeline's pictures now.
    public var onAir: Bool?
    /// The encoder's input as the ingest measures it.
    public var input: InputFigures?
    /// The live playlist this pipeline feeds (both feed the stream's one playlist).
    public var liveURL: String?
    /// The backend's own words about this pipeline (MediaLive's alerts), newest first.
    public var alerts: [String]
    /// The encoder's state for this pipeline where the backend has one (MediaLive: its channel's, `IDLE`, `STARTING`, `RUNNING`, ...).
    public var encoderState: String?
    /// A recent picture of this pipeline's input (JPEG), while it publishes and the backend makes them.
    public var thumbnailURL: String?

    public init(
        pipeline: Int, publishing: Bool? = nil, publishingSince: String? = nil, onAir: Bool? = nil, input: InputFigures? = nil, liveURL: String? = nil,
        alerts: [String] = [], encoderState: String? = nil, thumbnailURL: String? = nil
    ) {
        self.encoderState = encoderState
        self.thumbnailURL = thumbnailURL
        self.pipeline = pipeline
        self.publishing = publishing
        self.publishingSince = publishingSince
        self.onAir = onAir
        self.input = input
        self.liveURL = liveURL
        self.alerts = alerts
    }

    /// The API's JSON object.
    public var apiObject: JSONValue {
        [
            "pipeline": .int(Int64(pipeline)), "publishing": publishing.map(JSONValue.bool) ?? .null,
            "publishing_since": publishingSince.map(JSONValue.string) ?? .null, "on_air": onAir.map(JSONValue.bool) ?? .null,
            "input": input?.apiObject ?? .null, "live_url": liveURL.map(JSONValue.string) ?? .null, "alerts": .array(alerts.map(JSONValue.string)),
            "encoder_state": encoderState.map(JSONValue.string) ?? .null, "thumbnail_url": thumbnailURL.map(JSONValue.string) ?? .null,
        ]
    }
}

/// An encoder's input as the ingest measures it; nil where it cannot tell.
public struct InputFigures: Sendable, Hashable {
    /// Bits per second in, averaged by the ingest over its last few seconds.
    public var bitsPerSecond: Int?
    public var frameRate: Double?
    public var width: Int?
    public var height: Int?

    public init(bitsPerSecond: Int? = nil, frameRate: Double? = nil, width: Int? = nil, height: Int? = nil) {
        self.bitsPerSecond = bitsPerSecond
        self.frameRate = frameRate
        self.width = width
        self.height = height
    }

    public var apiObject: JSONValue {
        [
            "bits_per_second": bitsPerSecond.map { .int(Int64($0)) } ?? .null, "frame_rate": frameRate.map(JSONValue.double) ?? .null,
            "width": width.map { .int(Int64($0)) } ?? .null, "height": height.map { .int(Int64($0)) } ?? .null,
        ]
    }
}
