/// Ingest, encoder and packager of streams (seam `media`).
///
/// Each operation either completes or leaves nothing behind; the controller undoes
/// earlier steps of a use case when a later one fails.
public protocol MediaPipeline: Sendable {
    /// Builds the pipeline for a new stream; `name` and `description` are the stream's, for
    /// naming what the backend creates (as the old deployment did, for its operators' consoles).
    func create(streamId: String, name: String, description: String, segmentLength: Int) throws -> MediaResources

    /// The record naming what `create` built is stored: the stream now owns it. A pipeline that
    /// noted the create in progress (to remove what it built should the record never be stored)
    /// forgets the note here. Errors are the pipeline's to log; the create has succeeded.
    func created(_ record: StreamRecord)

    /// Starts the channel for a new session whose archive destinations are given.
    /// - Returns: the channel state and the media state to store with the record for this session.
    func start(_ record: StreamRecord, session: SessionPlan) throws -> MediaStatus

    /// Stops the channel (and disconnects the encoder).
    /// - Returns: the channel state and media state to store once stopped.
    func stop(_ record: StreamRecord) throws -> MediaStatus

    /// Applies new packaging settings (`startover_window_seconds`, `key_rotation_interval`).
    func updatePackaging(_ record: StreamRecord, startoverWindowSeconds: Int, keyRotationInterval: Int) throws

    /// Tears the pipeline down. Called with the record as stored.
    ///
    /// What cannot finish now (an input that can only go once its channel is gone) is
    /// recorded in the store's `CleanupJournal` and finished by `maintenance`.
    func delete(_ record: StreamRecord) throws

    /// Callback endpoints the pipeline needs on the internal listener (e.g. nginx-rtmp hooks).
    var internalEndpoints: [InternalEndpoint] { get }

    /// Background work (pending cleanups, channel state refresh); nil when there is none.
    var maintenance: (any MaintenanceWork)? { get }

    /// `GET /readyz`: throws when the media backend's control side does not answer (nginx-rtmp, MediaLive).
    func checkReady() throws

    /// Each pipeline's status now, by stream id, for records about to be answered to a client.
    /// Must be cheap (it is on the read path): a backend reads its figures at most every few
    /// seconds. Streams it cannot tell about are left out.
    func liveStatus(of records: [StreamRecord]) -> [String: [PipelineStatus]]

    /// The current picture of pipeline 1 or 2 of a started stream, for backends that hand pictures
    /// out instead of publishing them at `PipelineStatus.thumbnailURL`; nil when there is none now.
    /// Called on client reads: a backend keeps an answer for a few seconds rather than ask again.
    func thumbnail(of record: StreamRecord, pipeline: Int) throws -> Thumbnail?
}

extension MediaPipeline {
    public func created(_ record: StreamRecord) {}
    public func checkReady() throws {}
    public func liveStatus(of records: [StreamRecord]) -> [String: [PipelineStatus]] { [:] }
    public func thumbnail(of record: StreamRecord, pipeline: Int) throws -> Thumbnail? { nil }
    public var internalEndpoints: [InternalEndpoint] { [] }
    public var maintenance: (any MaintenanceWork)? { nil }
}

/// A channel state and the plugin state to store with the record.
public struct MediaStatus: Sendable, Equatable {
    /// The encoder channel's state (`StreamRecord.state`).
    public var state: String
    public var mediaState: [String: JSONValue]

    public init(state: String, mediaState: [String: JSONValue] = [:]) {
        self.state = state
        self.mediaState = mediaState
    }
}

/// What `MediaPipeline.create` built, as stored in the record.
public struct MediaResources: Sendable, Equatable {
    public var rtmp1: String
    public var rtmp2: String
    public var viewerEndpoint: String
    public var liveChannelId: String
    public var liveInputId: String
    public var packageChannelId: String
    public var packageEndpointId: String
    public var ssmPaths: [String]
    /// The new channel's state.
    public var state: String
    public var mediaState: [String: JSONValue]
    /// `[]` when the backend reports which pipelines publish (`StreamRecord.publishing`); nil when it cannot tell.
    public var publishing: [Int]?
    /// Epoch seconds after which the record must not be stored any more: the pipeline then
    /// takes the create for abandoned and removes what it built. nil: no limit.
    public var storeBy: Int64?

    public init(
        rtmp1: String, rtmp2: String, viewerEndpoint: String, liveChannelId: String, liveInputId: String,
        packageChannelId: String, packageEndpointId: String, ssmPaths: [String] = [], state: String = StreamRecord.idleState,
        mediaState: [String: JSONValue] = [:], publishing: [Int]? = nil, storeBy: Int64? = nil
    ) {
        self.storeBy = storeBy
        self.publishing = publishing
        self.rtmp1 = rtmp1
        self.rtmp2 = rtmp2
        self.viewerEndpoint = viewerEndpoint
        self.liveChannelId = liveChannelId
        self.liveInputId = liveInputId
        self.packageChannelId = packageChannelId
        self.packageEndpointId = packageEndpointId
        self.ssmPaths = ssmPaths
        self.state = state
        self.mediaState = mediaState
    }
}

/// A session about to start.
public struct SessionPlan: Sendable, Equatable {
    public var sessionId: String
    /// Archive root URL of the session (ends with `/`).
    public var archiveRoot: String
    /// `<root>_1` and `<root>_2`: where each pipeline writes its segments.
    public var destinations: [String] { [archiveRoot + "_1", archiveRoot + "_2"] }
    public var segmentLength: Int

    public init(sessionId: String, archiveRoot: String, segmentLength: Int) {
        self.sessionId = sessionId
        self.archiveRoot = archiveRoot
        self.segmentLength = segmentLength
    }
}
