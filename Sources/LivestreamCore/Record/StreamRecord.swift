/// A stream as the REST contract describes it, plus what the service keeps privately.
///
/// Field meanings are in docs/API.md. Timestamps are kept as the contract's
/// strings (epoch seconds) so records written by the old deployment round-trip unchanged.
public struct StreamRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var segmentLength: Int
    public var rtmp1: String
    public var rtmp2: String
    public var viewerEndpoint: String
    public var viewerEndpointCloudfront: String
    public var lastUpdate: String
    public var lastStarted: String?
    public var lastStopped: String?
    public var started: Bool
    /// The encoder channel's own state as last seen (`IDLE`, `STARTING`, `RUNNING`, `STOPPING`, ...).
    public var state: String
    public var currentSessionId: String?
    /// Session id -> archive root URL of that session.
    public var archivesPath: [String: String]
    /// Session id -> when it started and stopped (epoch seconds), for sessions this service started;
    /// stored as `livestreamd_sessions`, never part of the contract's fields.
    public var sessionTimes: [String: SessionTimes]
    public var liveChannelId: String
    public var liveInputId: String
    public var packageChannelId: String
    public var packageEndpointId: String
    public var ssmPaths: [String]
    public var cloudfrontAssociated: Bool
    public var keyRotationInterval: Int
    public var startoverWindowSeconds: Int
    /// The last failure the archiver reported for the current session, and when (epoch seconds); nil: none.
    public var archiveLastError: String?
    public var archiveLastErrorAt: String?
    /// Segments the archiver reported finished for the current session (both pipelines), and when the last one
    /// was; nil where nothing was reported (none yet, or a media backend that does not report them).
    public var archiveSegments: Int?
    public var archiveLastSegmentAt: String?
    /// The pipelines (1 primary, 2 backup) with a connected encoder, ascending; nil where the media backend cannot tell.
    public var publishing: [Int]?
    /// Client fields that are not part of the contract; kept and returned as given.
    public var extra: [String: JSONValue]
    /// Stored attributes that could not be read (an old item's odd types), as shown in the API's
    /// `problems`; never stored.
    public var problems: [String] = []
    /// Each pipeline's status now, as the media backend tells it on the API's answers; never stored.
    public var pipelines: [PipelineStatus]?
    /// State a media plugin keeps with the stream (never returned by the API).
    public var mediaState: [String: JSONValue]
    /// Compare-and-set version; 0 for a record not yet stored.
    public var version: Int

    public static let defaultSegmentLength = 300
    public static let defaultKeyRotationInterval = 60
    public static let defaultStartoverWindowSeconds = 43200
    public static let idleState = "IDLE"
    public static let runningState = "RUNNING"

    /// A record with contract defaults for everything but the given fields.
    public init(id: String, name: String, description: String = "", segmentLength: Int = StreamRecord.defaultSegmentLength, lastUpdate: String) {
        self.id = id
        self.name = name
        self.description = description
        self.segmentLength = segmentLength
        self.rtmp1 = ""
        self.rtmp2 = ""
        self.viewerEndpoint = ""
        self.viewerEndpointCloudfront = ""
        self.lastUpdate = lastUpdate
        self.lastStarted = nil
        self.lastStopped = nil
        self.started = false
        self.state = StreamRecord.idleState
        self.currentSessionId = nil
        self.archivesPath = [:]
        self.sessionTimes = [:]
        self.liveChannelId = ""
        self.liveInputId = ""
        self.packageChannelId = ""
        self.packageEndpointId = ""
        self.ssmPaths = []
        self.cloudfrontAssociated = false
        self.keyRotationInterval = StreamRecord.defaultKeyRotationInterval
        self.startoverWindowSeconds = StreamRecord.defaultStartoverWindowSeconds
        self.extra = [:]
        self.mediaState = [:]
        self.version = 0
    }

    /// Whether `other` names the same pipeline, created at the same time: how a create recognises
    /// its own record when the write's answer was lost (background writes may have changed the rest).
    public func namesSamePipeline(as other: StreamRecord) -> Bool {
        id == other.id && lastUpdate == other.lastUpdate && rtmp1 == other.rtmp1 && rtmp2 == other.rtmp2
            && viewerEndpoint == other.viewerEndpoint && liveChannelId == other.liveChannelId && liveInputId == other.liveInputId
            && packageChannelId == other.packageChannelId && packageEndpointId == other.packageEndpointId && ssmPaths == other.ssmPaths
    }
}

/// When a session started and stopped, as the record's timestamps are kept (epoch seconds as text).
public struct SessionTimes: Sendable, Equatable {
    public var started: String
    /// Nil while the session runs (or where its stop was never recorded).
    public var stopped: String?

    public init(started: String, stopped: String? = nil) {
        self.started = started
        self.stopped = stopped
    }
}
