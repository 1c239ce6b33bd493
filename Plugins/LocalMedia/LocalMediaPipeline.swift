import Foundation
import LivestreamCore
import Logging

/// Media plugin `local`: nginx-rtmp on this host, HLS by nginx, archives by ffmpeg.
///
/// Ingest URLs are `rtmp://HOST:PORT/<ingest app>/<id>_<secret>` (one secret per
/// pipeline). nginx-rtmp asks `rtmp/publish` before accepting a publisher; the hook
/// checks the key and that the stream is started, then renames the stream to its
/// public name (`<id>` for pipeline 1, `<id>-backup` for pipeline 2), so HLS folders,
/// playback URLs and archives never carry the key. The ingest application pushes the
/// stream to the HLS application and runs the archiver (`nginx/archiver.sh`), which
/// asks `rtmp/archive` where to write. Stop drops the publisher through
/// nginx-rtmp's control module; a reconnecting encoder is refused by the hook.
public struct LocalMediaPipeline: MediaPipeline {
    /// Where encoders and viewers reach nginx, and where its control module listens.
    public struct Settings: Sendable {
        /// `rtmp://HOST:PORT` as encoders see it.
        public var rtmpURL: String
        public var ingestApp: String
        /// Base URL of the live HLS folders.
        public var hlsURL: String
        /// `rtmp_control` base on the loopback listener.
        public var controlURL: String
        /// `rtmp_stat` on the loopback listener.
        public var statURL: String
        /// The secret nginx's hooks, relay and control endpoints share with livestreamd (nil: none, any local process may call them).
        public var internalToken: String?
        /// nginx-rtmp's `hls_path`, listed for the live folders of stopped streams (nil: not listed).
        public var hlsDirectory: String?

        /// The live folders on the internal server that serves `rtmp_control` (`/live-folders`, in the snippets).
        public var liveFoldersURL: String {
            guard let control = URLComponents(string: controlURL), let host = control.host else { return "http://127.0.0.1:8081/live-folders" }
            return "http://\(host)\(control.port.map { ":\($0)" } ?? "")/live-folders"
        }

        public init(
            rtmpURL: String, ingestApp: String, hlsURL: String, controlURL: String, statURL: String = "http://127.0.0.1:8081/stat", internalToken: String? = nil,
            hlsDirectory: String? = nil
        ) {
            self.statURL = statURL
            self.rtmpURL = rtmpURL.hasSuffix("/") ? String(rtmpURL.dropLast()) : rtmpURL
            self.ingestApp = ingestApp
            self.hlsURL = hlsURL.hasSuffix("/") ? String(hlsURL.dropLast()) : hlsURL
            self.controlURL = controlURL.hasSuffix("/") ? String(controlURL.dropLast()) : controlURL
            self.internalToken = internalToken.flatMap { $0.isEmpty ? nil : $0 }
            self.hlsDirectory = hlsDirectory.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    let settings: Settings
    let store: any StreamStore
    let archive: any ArchiveStore
    let logger: Logger
    /// When each publisher last reported through `on_update`.
    let liveness: PublisherLiveness
    /// How long stop waits for nginx-rtmp to confirm that the publishers are gone.
    let stopConfirmation: Duration
    public let maintenance: (any MaintenanceWork)?
    /// nginx-rtmp's live HLS folders.
    let liveFolders: LiveFolders
    /// Epoch seconds now (injectable for tests).
    let wallClock: @Sendable () -> Double
    /// The client ids nginx-rtmp's stat page lists as publishing in the ingest application (nil: cannot tell).
    let nginxPublishers: @Sendable () -> Set<String>?
    /// Each publishing client's input, from a recent stat page (nil: cannot tell).
    let inputFigures: @Sendable () -> [String: InputFigures]?

    /// - Parameters:
    ///   - clock: now, for publisher liveness (injectable for tests).
    ///   - wallClock: epoch seconds now, for the archive's wall-clock segment counters.
    ///   - nginxPublishers, inputFigures: replace reading `settings.statURL` (tests).
    public init(
        settings: Settings, store: any StreamStore, archive: any ArchiveStore, logger: Logger, stopConfirmation: Duration = .seconds(6),
        keepStoppedLiveFolders: Duration = .seconds(3600), clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, nginxPublishers: (@Sendable () -> Set<String>?)? = nil,
        inputFigures: (@Sendable () -> [String: InputFigures]?)? = nil
    ) {
        self.wallClock = wallClock
        let stat = NginxStat(url: settings.statURL + (settings.internalToken.map { "?token=" + $0 } ?? ""), app: settings.ingestApp)
        let nginxPublishers = nginxPublishers ?? { stat.publishingClients() }
        self.nginxPublishers = nginxPublishers
        self.inputFigures = inputFigures ?? { stat.recentInputFigures() }
        self.settings = settings
        self.store = store
        self.archive = archive
        self.logger = logger
        let liveness = PublisherLiveness(updateInterval: .seconds(PublisherLiveness.nginxUpdateSeconds), now: clock)
        self.liveness = liveness
        self.stopConfirmation = stopConfirmation
        liveFolders = LiveFolders(directory: settings.hlsDirectory, url: settings.liveFoldersURL, token: settings.internalToken)
        maintenance = LocalMaintenance(
            store: store, folders: liveFolders, liveness: liveness, nginxPublishers: nginxPublishers, keep: keepStoppedLiveFolders, logger: logger)
    }

    public func create(streamId: String, name: String, description: String, segmentLength: Int) throws -> MediaResources {
        let base = "\(settings.rtmpURL)/\(settings.ingestApp)/"
        return MediaResources(
            rtmp1: base + IngestKey.make(streamId: streamId),
            rtmp2: base + IngestKey.make(streamId: streamId),
            viewerEndpoint: "\(settings.hlsURL)/\(streamId)/index.m3u8",
            liveChannelId: streamId, liveInputId: streamId, packageChannelId: streamId, packageEndpointId: streamId, publishing: [])
    }

    /// nginx-rtmp has no channel to start: the stream is RUNNING as soon as the hook accepts encoders.
    public func start(_ record: StreamRecord, session: SessionPlan) throws -> MediaStatus {
        guard session.archiveRoot.hasPrefix("file://") else {
            throw ServiceError.internal("the local pipeline archives to file:// roots only; configure archive.backend = file")
        }
        return MediaStatus(state: StreamRecord.runningState)
    }

    /// Drops the publishers, then waits until nginx-rtmp confirms (`on_publish_done`) that none remains.
    ///
    /// `rtmp_control` reaches only the nginx worker that answers it; after an `nginx -s
    /// reload` the publisher lives on in the old worker. That worker still calls
    /// `on_update` every few seconds, which refuses a stopped stream and so drops it.
    public func stop(_ record: StreamRecord) throws -> MediaStatus {
        dropPublishers(of: record.id)
        let deadline = ContinuousClock.now + stopConfirmation
        var remaining = Publishers(record.mediaState)
        while !remaining.isEmpty && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            remaining = Publishers((try store.get(id: record.id))?.mediaState ?? [:])
        }
        for problem in liveFolders.endPlaylists(of: record.id) { logger.warning("\(problem)", metadata: ["stream": "\(record.id)"]) }
        // The publishers are the hooks' to record: the media state is returned as it was.
        guard remaining.isEmpty else {
            logger.warning(
                "stream stopped, but nginx-rtmp has not confirmed that its encoders are gone; the record says STOPPING until it does",
                metadata: ["stream": "\(record.id)", "pipelines": "\(remaining.clients.keys.sorted())"])
            return MediaStatus(state: LocalMediaPipeline.stoppingState, mediaState: record.mediaState)
        }
        return MediaStatus(state: StreamRecord.idleState, mediaState: record.mediaState)
    }

    /// A stopped stream whose encoders nginx-rtmp has not yet reported gone.
    static let stoppingState = "STOPPING"

    public func updatePackaging(_ record: StreamRecord, startoverWindowSeconds: Int, keyRotationInterval: Int) throws {
        // nginx's HLS has no startover window or key rotation; the values are only stored.
    }

    public func delete(_ record: StreamRecord) throws {
        if record.started || !Publishers(record.mediaState).isEmpty { dropPublishers(of: record.id) }
        for problem in liveFolders.remove(of: record.id) { logger.warning("\(problem)", metadata: ["stream": "\(record.id)"]) }
    }

    public func checkReady() throws {
        guard nginxPublishers() != nil else {
            throw ServiceError(.upstreamUnavailable, code: "media_unreachable", "nginx-rtmp's stat page (media.local.stat_url) does not answer")
        }
    }

    /// Both pipelines: connected since when (from the hooks), on air (the failover's choice), and the
    /// input nginx-rtmp measures (its stat page, read at most every `NginxStat.maxAge`, and only
    /// when one of the streams has a publisher).
    public func liveStatus(of records: [StreamRecord]) -> [String: [PipelineStatus]] {
        let figures = records.contains { !Publishers($0.mediaState).isEmpty } ? inputFigures() ?? [:] : [:]
        return Dictionary(uniqueKeysWithValues: records.map { record in
            let publishers = Publishers(record.mediaState)
            let viewersSee = record.mediaState[Self.viewersFollowBackup] != nil ? 2 : 1
            let onAir = publishers.clients[viewersSee] != nil ? viewersSee : publishers.clients.keys.min()
            return (record.id, [1, 2].map { pipeline in
                let client = publishers.clients[pipeline]
                return PipelineStatus(
                    pipeline: pipeline, publishing: client != nil, publishingSince: client == nil ? nil : publishers.since[pipeline],
                    onAir: onAir == pipeline, input: client.flatMap { figures[$0] }, liveURL: record.viewerEndpoint,
                    thumbnailURL: client != nil && settings.hlsDirectory != nil ? "\(settings.hlsURL)/\(record.id)/\(Self.thumbnailName(pipeline))" : nil)
            })
        })
    }

    /// The picture the archiver refreshes in the stream's live folder while a pipeline publishes.
    static func thumbnailName(_ pipeline: Int) -> String { "thumbnail\(pipeline).jpg" }

    public var internalEndpoints: [InternalEndpoint] {
        let hooks: [(String, @Sendable (InternalRequest) throws -> InternalResponse)] = [
            ("rtmp/publish", publish), ("rtmp/publish_done", publishDone), ("rtmp/archive", archiveTarget),
            ("rtmp/update", update), ("rtmp/failover", failover), ("rtmp/relay", relay), ("rtmp/archive_failed", archiveFailed),
            ("rtmp/archive_segment", archiveSegment),
        ]
        return hooks.map { path, handle in
            InternalEndpoint(path: path) { request in
                guard carriesToken(request) else {
                    logger.warning("refused an internal call without the internal token", metadata: ["path": "\(path)"])
                    return InternalResponse(status: 403, body: "forbidden\n")
                }
                return try handle(request)
            }
        }
    }

    /// Whether a hook call comes from the nginx configured with our token.
    private func carriesToken(_ request: InternalRequest) -> Bool {
        guard let token = settings.internalToken else { return true }
        return constantTimeEquals(request.fields["token"] ?? "", token)
    }

    /// Disconnects both pipelines' publishers; nginx being down means nobody is publishing.
    func dropPublishers(of streamId: String) {
        for pipeline in [1, 2] {
            do {
                let answer = try LoopbackHTTP.get(controlURL("drop/publisher", app: settings.ingestApp, name: IngestKey.publicName(streamId: streamId, pipeline: pipeline)))
                if answer.status != 200 {
                    logger.warning("nginx-rtmp did not drop the publisher", metadata: ["stream": "\(streamId)", "pipeline": "\(pipeline)", "status": "\(answer.status)"])
                }
            } catch {
                logger.warning("cannot reach nginx-rtmp control", metadata: ["stream": "\(streamId)", "error": "\(error)"])
            }
        }
    }

    /// Drops the relay that publishes the stream to viewers (in the failover application); true if there was one.
    func dropViewerRelay(of streamId: String) -> Bool {
        do {
            let answer = try LoopbackHTTP.get(controlURL("drop/publisher", app: "failover", name: streamId))
            // rtmp_control answers the number of sessions it dropped.
            return answer.status == 200 && (Int(answer.body.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0
        } catch {
            logger.warning("cannot reach nginx-rtmp control", metadata: ["stream": "\(streamId)", "error": "\(error)"])
            return false
        }
    }

    private func controlURL(_ command: String, app: String, name: String) -> String {
        var url = "\(settings.controlURL)/\(command)?app=\(app)&name=\(name)"
        if let token = settings.internalToken { url += "&token=" + token }
        return url
    }
}

/// Registers media plugin `local`.
public enum LocalMediaPlugin {
    public static let options = [
        ConfigOption("media.local.rtmp_url", .string, default: "rtmp://127.0.0.1:1935", help: "RTMP base URL encoders publish to"),
        ConfigOption("media.local.ingest_app", .string, default: "live", help: "nginx-rtmp application that checks keys"),
        ConfigOption("media.local.hls_url", .string, default: "http://127.0.0.1:8080/hls", help: "base URL of the live HLS folders"),
        ConfigOption(
            "media.local.hls_directory", .string, default: "var/run/hls",
            help: "nginx-rtmp's hls_path (in the snippets livestreamd nginx-config writes); the background round lists it for the live folders of stopped streams"),
        ConfigOption("media.local.control_url", .string, default: "http://127.0.0.1:8081/control", help: "nginx-rtmp rtmp_control base on the snippets' loopback internal server, whose /live-folders/ stop and delete use to end playlists (#EXT-X-ENDLIST) and remove live folders"),
        ConfigOption(
            "media.local.stat_url", .string, default: "http://127.0.0.1:8081/stat",
            help: "nginx-rtmp rtmp_stat (loopback listener): which publishers nginx still holds, to free the slots of lost ones"),
        ConfigOption(
            "media.local.live_folder_keep_seconds", .integer(0...31_536_000), default: "3600",
            help: "how long the live HLS folders of a stopped stream stay after their last write (then the background round removes them)"),
        ConfigOption(
            "media.local.internal_token", .string, default: nil,
            help: "secret shared with the nginx snippets: hooks, the HLS relay and rtmp_control carry it; unset = read from media.local.internal_token_file", isSecret: true),
        ConfigOption(
            "media.local.internal_token_file", .string, default: nil,
            help: "file holding the internal token (readable by nginx's user: the archiver reads it there, never on a command line); unset with no token = any local process may call the hooks"),
        ConfigOption(
            "media.local.rtmp_listen", .string, default: "127.0.0.1:1935",
            help: "address:port nginx-rtmp listens on (livestreamd nginx-config); 127.0.0.1 takes encoders on this host only, 0.0.0.0 from anywhere"),
        ConfigOption(
            "media.local.archiver", .string, default: nil,
            help: "the archiver nginx-rtmp runs (livestreamd nginx-config); unset = lib/livestreamd/archiver.sh beside the installed binary, or nginx/archiver.sh of the source tree"),
        ConfigOption(
            "media.local.archiver_log", .string, default: nil,
            help: "the archiver's log, written by nginx's user (livestreamd nginx-config); unset = archiver.log beside media.local.hls_directory"),
    ]

    /// The internal token: `media.local.internal_token`, else the first line of `media.local.internal_token_file`.
    public static func internalToken(_ config: Configuration) throws -> String? {
        if let token = config.string("media.local.internal_token"), !token.isEmpty { return token }
        guard let path = config.string("media.local.internal_token_file"), !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read media.local.internal_token_file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        guard token.count >= 16, token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError("media.local.internal_token_file \(path) must hold one token of at least 16 letters or digits")
        }
        return token
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerMedia("local", summary: "nginx-rtmp + ffmpeg on this host: key-checked ingest, HLS, MPEG-TS archives", options: options) { context in
            guard context.backends[.archive] == "file" else {
                throw ConfigurationError("needs archive.backend = file (its archiver writes to a local directory)")
            }
            guard let store = context.store, let archive = context.archive else {
                throw ConfigurationError("needs the storage and archive plugins")
            }
            let config = context.configuration
            let settings = LocalMediaPipeline.Settings(
                rtmpURL: try config.requiredString("media.local.rtmp_url"), ingestApp: try config.requiredString("media.local.ingest_app"),
                hlsURL: try config.requiredString("media.local.hls_url"), controlURL: try config.requiredString("media.local.control_url"),
                statURL: try config.requiredString("media.local.stat_url"),
                internalToken: try internalToken(config), hlsDirectory: config.string("media.local.hls_directory"))
            if settings.internalToken == nil {
                context.logger.warning("no internal token (media.local.internal_token or _file): any local process can call the nginx-rtmp hooks and publish into live HLS")
            }
            return LocalMediaPipeline(
                settings: settings, store: store, archive: archive, logger: context.logger,
                keepStoppedLiveFolders: .seconds(config.int("media.local.live_folder_keep_seconds")))
        }
    }
}
