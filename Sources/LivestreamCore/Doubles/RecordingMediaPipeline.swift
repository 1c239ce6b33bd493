import Synchronization

/// A `MediaPipeline` double that records calls and can be told to fail.
public final class RecordingMediaPipeline: MediaPipeline {
    /// A call the pipeline received: operation name and stream id.
    public struct Call: Sendable, Equatable {
        public let operation: String
        public let streamId: String

        public init(operation: String, streamId: String) {
            self.operation = operation
            self.streamId = streamId
        }
    }

    private let state = Mutex<(calls: [Call], failing: Set<String>, picture: Thumbnail?)>(([], [], nil))

    public init() {}

    /// What `thumbnail` answers for every started stream and pipeline from now on.
    public func show(_ picture: Thumbnail?) {
        state.withLock { $0.picture = picture }
    }

    /// Calls received so far.
    public var calls: [Call] { state.withLock { $0.calls } }

    /// Makes `operation` ("create", "start", "stop", "delete", "updatePackaging", "thumbnail<pipeline>") throw a 502 from now on.
    public func fail(_ operation: String, _ failing: Bool = true) {
        state.withLock { if failing { $0.failing.insert(operation) } else { $0.failing.remove(operation) } }
    }

    private func record(_ operation: String, _ id: String) throws {
        let shouldFail = state.withLock { state in
            state.calls.append(Call(operation: operation, streamId: id))
            return state.failing.contains(operation)
        }
        if shouldFail { throw ServiceError(.upstreamFailed, code: "InjectedFailure", "\(operation) failed (injected)") }
    }

    public func create(streamId: String, name: String, description: String, segmentLength: Int) throws -> MediaResources {
        try record("create", streamId)
        return MediaResources(
            rtmp1: "rtmp://media.test:1935/live/\(streamId)-key1", rtmp2: "rtmp://media.test:1935/live/\(streamId)-key2",
            viewerEndpoint: "http://media.test/hls/\(streamId)/index.m3u8", liveChannelId: "ch-\(streamId)",
            liveInputId: "in-\(streamId)", packageChannelId: "pc-\(streamId)", packageEndpointId: "pe-\(streamId)")
    }

    public func start(_ record: StreamRecord, session: SessionPlan) throws -> MediaStatus {
        try self.record("start", record.id)
        return MediaStatus(state: "STARTING", mediaState: ["session": .string(session.sessionId)])
    }

    public func stop(_ record: StreamRecord) throws -> MediaStatus {
        try self.record("stop", record.id)
        return MediaStatus(state: "STOPPING")
    }

    public func updatePackaging(_ record: StreamRecord, startoverWindowSeconds: Int, keyRotationInterval: Int) throws {
        try self.record("updatePackaging", record.id)
    }

    public func delete(_ record: StreamRecord) throws {
        try self.record("delete", record.id)
    }

    public func thumbnail(of record: StreamRecord, pipeline: Int) throws -> Thumbnail? {
        try self.record("thumbnail\(pipeline)", record.id)
        return state.withLock { $0.picture }
    }
}
