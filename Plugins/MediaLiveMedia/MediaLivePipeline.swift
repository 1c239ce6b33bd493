import AWSClient
import Foundation
import LivestreamCore
import Logging

/// Media plugin `medialive`: AWS MediaLive encodes, MediaPackage packages, SSM keeps the ingest passwords.
///
/// create builds, in order, a MediaPackage channel, its two ingest passwords as SSM
/// SecureString parameters `/Medialive_api/<username>`, an HLS origin endpoint, an
/// `RTMP_PUSH` input with two destinations `<app>/<secret key>`, and a channel from
/// the `ChannelTemplate`. A failure undoes what was built in reverse order; what the
/// undo cannot remove now is journaled and finished by `MediaLiveMaintenance`.
/// delete journals the whole teardown first, then runs it; the input goes once its
/// channel is DELETED, also after a restart.
public struct MediaLivePipeline: MediaPipeline {
    /// What the plugin needs besides the AWS clients.
    public struct Settings: Sendable {
        public var roleArn: String
        public var inputSecurityGroup: String
        /// First component of the inputs' stream names (`<app>/<key>`).
        public var ingestApp: String
        /// Optional SPEKE key provider: with it the HLS endpoint is AES-128 encrypted and keys rotate every `key_rotation_interval`.
        public var spekeURL: String?
        public var spekeRoleArn: String?
        /// Name MediaLive and MediaPackage resources after the stream (name, description), as the old
        /// deployment did; false: `livestreamd-<id>`.
        public var namesFromStream: Bool
        /// Fields of the origin endpoint's `hlsPackage` over the defaults (the old deployment's packaging).
        public var hlsPackage: [String: JSONValue]
        /// Time a create may take, its record write included; what an older create built is removed.
        public var createTimeoutSeconds: Int64

        public init(
            roleArn: String, inputSecurityGroup: String, ingestApp: String = "live", spekeURL: String? = nil, spekeRoleArn: String? = nil,
            namesFromStream: Bool = true, hlsPackage: [String: JSONValue] = [:], createTimeoutSeconds: Int64 = 120
        ) {
            self.createTimeoutSeconds = createTimeoutSeconds
            self.namesFromStream = namesFromStream
            self.hlsPackage = hlsPackage
            self.roleArn = roleArn
            self.inputSecurityGroup = inputSecurityGroup
            self.ingestApp = ingestApp
            self.spekeURL = spekeURL
            self.spekeRoleArn = spekeRoleArn
        }
    }

    static let owner = "medialive"
    /// The tag every resource of a stream carries: how a create whose answer was lost finds what it made.
    static let streamTag = "livestreamd:stream"
    static let parameterPrefix = "/Medialive_api/"
    static let segmentDurationSeconds = 6

    let settings: Settings
    let template: ChannelTemplate
    let services: MediaServices
    let archive: any ArchiveStore
    let journal: any CleanupJournal
    let store: any StreamStore
    let work: MediaLiveMaintenance
    let thumbnails: ChannelThumbnails
    let logger: Logger
    let now: @Sendable () -> Int64

    init(
        settings: Settings, template: ChannelTemplate, services: MediaServices, store: any StreamStore, archive: any ArchiveStore,
        refreshInterval: Duration, logger: Logger, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.settings = settings
        self.template = template
        self.services = services
        self.archive = archive
        self.journal = store.cleanups
        self.store = store
        self.logger = logger
        self.now = now
        self.work = MediaLiveMaintenance(services: services, store: store, interval: refreshInterval, logger: logger)
        self.thumbnails = ChannelThumbnails(services: services, now: now)
    }

    public var maintenance: (any MaintenanceWork)? { work }

    public func checkReady() throws {
        do {
            _ = try services.rest(services.medialive, "GET", "/prod/channels", query: "maxResults=1")
        } catch {
            throw MediaServices.failure(error, doing: "ListChannels")
        }
    }

    /// MediaLive tells no per-pipeline encoder or input figures without CloudWatch; what it
    /// does tell, the alerts set on each of the channel's two pipelines, the background
    /// refresh keeps on the record (ListAlerts of running channels), so reads cost no call.
    public func liveStatus(of records: [StreamRecord]) -> [String: [PipelineStatus]] {
        Dictionary(uniqueKeysWithValues: records.map { record in
            let alerts = ChannelAlerts(record.mediaState)
            // The channel's state as the background refresh last saw it (a STANDARD channel runs both pipelines).
            return (record.id, [1, 2].map { PipelineStatus(pipeline: $0, liveURL: record.viewerEndpoint, alerts: alerts.byPipeline[$0] ?? [], encoderState: record.state) })
        })
    }

    public func thumbnail(of record: StreamRecord, pipeline: Int) throws -> Thumbnail? {
        record.liveChannelId.isEmpty ? nil : try thumbnails.picture(channel: record.liveChannelId, pipeline: pipeline)
    }

    var runner: TeardownRunner { TeardownRunner(services: services) }

    // MARK: - create

    public func create(streamId: String, name: String, description: String, segmentLength: Int) throws -> MediaResources {
        // Named as the old deployment named them (operators find streams by name in the AWS console).
        let resourceName = name.isEmpty || !settings.namesFromStream ? "livestreamd-\(streamId)" : name
        let resourceDescription = description.isEmpty || !settings.namesFromStream ? "livestreamd stream \(streamId)" : description
        let startedAt = now()
        let storeBy = startedAt + settings.createTimeoutSeconds
        let judgeAfter = storeBy + settings.createTimeoutSeconds  // the record write has had its time too
        // Write-ahead: everything this create may build, found by id or tag, noted before the first call.
        // Kept until the record is stored (`created`); torn down by the maintenance work if it never is.
        var aheadSteps: [Teardown.Step] = [
            .originEndpoint(id: streamId), .packageChannel(id: streamId), .taggedChannels(stream: streamId), .taggedInputs(stream: streamId),
        ]
        var note = PendingCleanup(
            owner: MediaLivePipeline.owner, streamId: streamId,
            work: Teardown(steps: aheadSteps, unlessStoredAfter: judgeAfter).jsonValue, createdAt: startedAt)
        do {
            try journal.save(note)
        } catch {
            work.wakeup.request()  // the note may have been stored, its answer lost: the maintenance work judges it in time
            throw error
        }
        work.runningCreates.withLock { $0[streamId] = note.id }

        var built = Teardown(steps: [])
        var operation = "CreateChannel"
        let tags: JSONValue = [MediaLivePipeline.streamTag: .string(streamId)]
        var secrets: [String] = []
        do {
            // Each step joins `built` before its call: a call whose answer is lost may still have made the resource.
            built.steps.insert(.packageChannel(id: streamId), at: 0)
            let channel = try createOrAdopt(services.mediapackage, "/channels", id: streamId, body: [
                "id": .string(streamId), "description": .string(resourceDescription), "tags": tags,
            ]) { $0["tags"]?.objectValue?[MediaLivePipeline.streamTag]?.stringValue == streamId }
            let ingest = try IngestEndpoint.all(in: .object(channel))
            let parameters = ingest.map { MediaLivePipeline.parameterPrefix + $0.username }
            secrets += ingest.map(\.password)

            operation = "PutParameter"
            aheadSteps.append(.parameters(names: parameters))
            note.work = Teardown(steps: aheadSteps, unlessStoredAfter: judgeAfter).jsonValue
            try journal.save(note)
            built.steps.insert(.parameters(names: parameters), at: 0)
            for (endpoint, name) in zip(ingest, parameters) {
                try checkTime(storeBy)
                // Overwrite: a retry whose first attempt landed repeats it. The name holds the ingest
                // username MediaPackage gave this stream's own channel, so nothing else owns it.
                _ = try services.ssm("PutParameter", [
                    "Name": .string(name), "Value": .string(endpoint.password), "Type": "SecureString", "Overwrite": true,
                    "Description": .string("MediaPackage ingest password of livestreamd stream \(streamId)"),
                ])
            }

            operation = "CreateOriginEndpoint"
            try checkTime(storeBy)
            // The endpoint id is the stream id: the old deployment's handlers, possibly running beside us, address it so.
            let endpointId = streamId
            var endpointBody = endpointSettings(streamId: streamId, startover: StreamRecord.defaultStartoverWindowSeconds, keyRotation: StreamRecord.defaultKeyRotationInterval)
            endpointBody["id"] = .string(endpointId)
            endpointBody["description"] = .string(resourceDescription)
            endpointBody["channelId"] = .string(streamId)
            endpointBody["tags"] = tags
            built.steps.insert(.originEndpoint(id: endpointId), at: 0)
            let endpoint = try createOrAdopt(services.mediapackage, "/origin_endpoints", id: endpointId, body: .object(endpointBody)) {
                $0["channelId"]?.stringValue == streamId && $0["tags"]?.objectValue?[MediaLivePipeline.streamTag]?.stringValue == streamId
            }
            guard let viewerEndpoint = endpoint["url"]?.stringValue, !viewerEndpoint.isEmpty else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "mediapackage CreateOriginEndpoint: the answer has no url")
            }

            operation = "CreateInput"
            try checkTime(storeBy)
            let keys = [Identifier.secret(bytes: 16), Identifier.secret(bytes: 16)]
            secrets += keys
            // Until the answer names it, the input is found by its tag; a retry repeats `requestId`, so MediaLive
            // answers with the input the lost attempt made instead of making another.
            built.steps.append(.taggedInputs(stream: streamId))
            let input = try services.rest(services.medialive, "POST", "/prod/inputs", body: [
                "name": .string(resourceName), "type": "RTMP_PUSH",
                "destinations": .array(keys.map { ["streamName": .string("\(settings.ingestApp)/\($0)")] }),
                "inputSecurityGroups": [.string(settings.inputSecurityGroup)], "requestId": .string(Identifier.make()), "tags": tags,
            ]).objectValue?["input"]?.objectValue ?? [:]
            guard let inputId = input["id"]?.stringValue else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateInput: the answer has no input id")
            }
            built.steps[built.steps.count - 1] = .input(id: inputId, channel: nil)
            let urls = input["destinations"]?.arrayValue?.compactMap { $0.objectValue?["url"]?.stringValue } ?? []
            guard urls.count == 2 else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateInput: expected two destination URLs, got \(urls.count)")
            }

            operation = "CreateChannel"
            try checkTime(storeBy)
            let placeholder = try archive.sessionRoot(streamId: streamId, startedAt: now(), requestedPath: nil)
            let body = template.createChannelBody(
                name: resourceName, roleArn: settings.roleArn, inputId: inputId, requestId: Identifier.make(),
                segmentLength: segmentLength, destinations: destinations(ingest: ingest, parameters: parameters, archiveRoot: placeholder),
                tags: [MediaLivePipeline.streamTag: streamId])
            built.steps.insert(.taggedChannels(stream: streamId), at: built.steps.count - 1)
            let created = try services.rest(services.medialive, "POST", "/prod/channels", body: body).objectValue?["channel"]?.objectValue ?? [:]
            guard let channelId = created["id"]?.stringValue else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateChannel: the answer has no channel id")
            }
            return MediaResources(
                rtmp1: urls[0], rtmp2: urls[1], viewerEndpoint: viewerEndpoint, liveChannelId: channelId, liveInputId: inputId,
                packageChannelId: streamId, packageEndpointId: endpointId, ssmPaths: parameters,
                state: created["state"]?.stringValue ?? "CREATING", storeBy: storeBy)
        } catch {
            undo(built, note: note)
            throw MediaServices.failure(error, doing: operation, hiding: secrets)
        }
    }

    public func created(_ record: StreamRecord) {
        guard let noteId = work.runningCreates.withLock({ $0.removeValue(forKey: record.id) }) else { return }
        do {
            try journal.finish(id: noteId)
        } catch {
            // The maintenance work finds the record stored and drops the note then.
            logger.warning("could not drop the note of a finished create", metadata: ["stream": "\(record.id)", "error": "\(error)"])
            work.wakeup.request()
        }
    }

    /// A create that has taken longer than its time may no longer be stored (the maintenance work
    /// will take it for abandoned): stop building.
    private func checkTime(_ storeBy: Int64) throws {
        guard now() <= storeBy else {
            throw ServiceError(.upstreamTimeout, code: "CreateTimeout", "building the pipeline took longer than \(settings.createTimeoutSeconds) s")
        }
    }

    /// A MediaPackage create with our own id. A retry whose first attempt landed (its answer lost)
    /// meets 422 "already exists": the resource is adopted when `isOurs` says it is this stream's.
    private func createOrAdopt(
        _ service: AWSService, _ collection: String, id: String, body: JSONValue, isOurs: ([String: JSONValue]) -> Bool
    ) throws -> [String: JSONValue] {
        do {
            return try services.rest(service, "POST", collection, body: body).objectValue ?? [:]
        } catch let error as AWSError where error.status == 422 {
            guard let existing = try? services.rest(service, "GET", "\(collection)/\(id)").objectValue, isOurs(existing) else { throw error }
            logger.notice("adopted what an earlier attempt created", metadata: ["resource": "\(collection)/\(id)"])
            return existing
        }
    }

    /// The channel's destinations: the packager's two ingest endpoints (passwords by SSM name) and the archive root's `_1`, `_2`.
    func destinations(ingest: [IngestEndpoint], parameters: [String], archiveRoot: String) -> [JSONValue] {
        [
            [
                "id": .string(ChannelTemplate.packagerDestination),
                "settings": .array(zip(ingest, parameters).map { endpoint, parameter in
                    ["url": .string(endpoint.url), "username": .string(endpoint.username), "passwordParam": .string(parameter)]
                }),
            ],
            archiveDestination(root: archiveRoot),
        ]
    }

    /// The archive destination of a session root: `s3ssl://` (MediaLive's documented scheme: writes over TLS) for an `s3://` root.
    func archiveDestination(root: String, id: String = ChannelTemplate.archiveDestination) -> JSONValue {
        let base = root.hasPrefix("s3://") ? "s3ssl://" + root.dropFirst("s3://".count) : root
        return ["id": .string(id), "settings": [["url": .string(base + "_1")], ["url": .string(base + "_2")]]]
    }

    /// The channel's destinations with every archive destination (found through its archive
    /// output groups, whatever its name) pointed at the session's archive root.
    func destinations(ofChannel channel: [String: JSONValue], archiveRoot: String) -> [JSONValue] {
        let archiveIds = Set(ChannelTemplate.archiveDestinationIds(ofChannel: channel))
        var destinations = channel["destinations"]?.arrayValue ?? []
        for index in destinations.indices {
            guard let id = destinations[index].objectValue?["id"]?.stringValue, archiveIds.contains(id) else { continue }
            destinations[index] = archiveDestination(root: archiveRoot, id: id)
        }
        return destinations
    }

    /// The origin endpoint's packaging (CreateOriginEndpoint and UpdateOriginEndpoint share it).
    func endpointSettings(streamId: String, startover: Int, keyRotation: Int) -> [String: JSONValue] {
        var hls: [String: JSONValue] = [
            "segmentDurationSeconds": .int(Int64(MediaLivePipeline.segmentDurationSeconds)), "playlistWindowSeconds": 60,
            // The old deployment's packaging: SCTE-35 ad markers passed through, an I-frame-only stream for scrubbing.
            "playlistType": "EVENT", "adMarkers": "SCTE35_ENHANCED", "includeIframeOnlyStream": true, "useAudioRenditionGroup": false,
            "programDateTimeIntervalSeconds": 0, "streamSelection": ["streamOrder": "ORIGINAL"],
        ]
        hls.merge(settings.hlsPackage) { _, configured in configured }
        if let url = settings.spekeURL, let role = settings.spekeRoleArn {
            hls["encryption"] = [
                "encryptionMethod": "AES_128", "keyRotationIntervalSeconds": .int(Int64(keyRotation)), "repeatExtXKey": false,
                // The AES-128 clear-key system id of the SPEKE specification.
                "spekeKeyProvider": ["resourceId": .string(streamId), "roleArn": .string(role), "url": .string(url), "systemIds": ["81376844-f976-481e-a84e-cc25d39b0b33"]],
            ]
        }
        return [
            "manifestName": "index",
            "startoverWindowSeconds": .int(Int64(startover)), "hlsPackage": .object(hls),
        ]
    }

    // MARK: - start / stop / packaging

    public func start(_ record: StreamRecord, session: SessionPlan) throws -> MediaStatus {
        let channelPath = "/prod/channels/\(record.liveChannelId)"
        var operation = "DescribeChannel"
        do {
            let channel = try services.rest(services.medialive, "GET", channelPath).objectValue ?? [:]
            let state = channel["state"]?.stringValue ?? "UNKNOWN"
            guard state == "IDLE" else {
                throw ServiceError.stateConflict("the MediaLive channel of stream \(record.id) is \(state); it can start only when IDLE")
            }
            guard !ChannelTemplate.archiveDestinationIds(ofChannel: channel).isEmpty else {
                throw ServiceError.stateConflict("the MediaLive channel of stream \(record.id) has no archive output group; a session would not be recorded")
            }
            let destinations = destinations(ofChannel: channel, archiveRoot: session.archiveRoot)
            operation = "UpdateChannel"
            _ = try services.rest(services.medialive, "PUT", channelPath, body: ["destinations": .array(destinations)])
            operation = "StartChannel"
            let started: JSONValue
            do {
                started = try services.rest(services.medialive, "POST", channelPath + "/start")
            } catch {
                // The answer may be lost after MediaLive acted on the call: the channel's state says which.
                guard let state = try? runner.channelState(record.liveChannelId) else {
                    // Unknown: a channel the record calls stopped must not be left running (and billing).
                    _ = try? services.rest(services.medialive, "POST", channelPath + "/stop")
                    throw error
                }
                guard ["STARTING", "RUNNING"].contains(state) else { throw error }
                started = ["state": .string(state)]
            }
            work.wakeup.request()
            return MediaStatus(state: started.objectValue?["state"]?.stringValue ?? "STARTING")
        } catch {
            throw MediaServices.failure(error, doing: operation)
        }
    }

    public func stop(_ record: StreamRecord) throws -> MediaStatus {
        let channelPath = "/prod/channels/\(record.liveChannelId)"
        do {
            let stopped = try services.rest(services.medialive, "POST", channelPath + "/stop")
            work.wakeup.request()
            return MediaStatus(state: stopped.objectValue?["state"]?.stringValue ?? "STOPPING")
        } catch {
            // Already stopping or stopped (by someone else, a failed channel, or this call with its answer lost):
            // that is what was asked.
            if let state = try? runner.channelState(record.liveChannelId), ["IDLE", "STOPPING"].contains(state) {
                work.wakeup.request()
                return MediaStatus(state: state)
            }
            throw MediaServices.failure(error, doing: "StopChannel")
        }
    }

    public func updatePackaging(_ record: StreamRecord, startoverWindowSeconds: Int, keyRotationInterval: Int) throws {
        do {
            let body = endpointSettings(streamId: record.id, startover: startoverWindowSeconds, keyRotation: keyRotationInterval)
            _ = try services.rest(services.mediapackage, "PUT", "/origin_endpoints/\(record.packageEndpointId)", body: .object(body))
        } catch {
            throw MediaServices.failure(error, doing: "UpdateOriginEndpoint")
        }
    }

    // MARK: - teardown

    /// Journals the teardown, then runs it; what cannot finish now is left to the maintenance work.
    public func delete(_ record: StreamRecord) throws {
        let teardown = Teardown.deletion(of: record)
        guard !teardown.isDone else { return }
        var cleanup = PendingCleanup(owner: MediaLivePipeline.owner, streamId: record.id, work: teardown.jsonValue, createdAt: now())
        try journal.save(cleanup)
        // A create whose record could not be stored is undone here: its note is covered by this teardown.
        created(record)
        let outcome = runner.pass(teardown)
        do {
            if try !journal.record(outcome, of: teardown, into: &cleanup, stored: true) { work.wakeup.request() }
        } catch {
            // The journal still holds the whole teardown; repeating done steps is harmless.
            logger.warning("could not update a pending cleanup", metadata: ["stream": "\(record.id)", "error": "\(error)"])
            work.wakeup.request()
        }
        if !outcome.remaining.isDone {
            store.journal(.cleanupPending, streamId: record.id, data: ["steps_left": .int(Int64(outcome.remaining.steps.count))], logger: logger)
        }
        if let failure = outcome.failure {
            logger.warning("stream deleted; its teardown continues in the background", metadata: ["stream": "\(record.id)", "error": "\(failure)"])
        }
    }

    /// Removes what a failed create built and replaces its write-ahead `note` with what is left
    /// (finished now by the maintenance work). Should that write fail, the note stays and the
    /// maintenance work tears everything down once its time is up.
    func undo(_ built: Teardown, note: PendingCleanup) {
        work.runningCreates.withLock { _ = $0.removeValue(forKey: note.streamId) }
        defer { work.wakeup.request() }  // whatever is left, in the note or its replacement, is the maintenance work's
        let outcome = runner.pass(built)
        do {
            if outcome.remaining.isDone { return try journal.finish(id: note.id) }
            var cleanup = note
            cleanup.work = outcome.remaining.jsonValue
            if let failure = outcome.failure {
                cleanup.attempts += 1
                cleanup.lastError = "\(failure)"
            }
            try journal.save(cleanup)
            logger.warning("undo of a failed create continues in the background", metadata: ["stream": "\(note.streamId)", "pending": "\(outcome.remaining.steps.count)"])
        } catch {
            logger.warning("undo of a failed create is left to the maintenance work", metadata: ["stream": "\(note.streamId)", "error": "\(error)"])
        }
    }
}

/// One of MediaPackage's two HLS ingest endpoints.
struct IngestEndpoint: Sendable {
    var url: String
    var username: String
    var password: String

    /// Both endpoints of a CreateChannel answer.
    static func all(in channel: JSONValue) throws -> [IngestEndpoint] {
        let endpoints = channel.objectValue?["hlsIngest"]?.objectValue?["ingestEndpoints"]?.arrayValue ?? []
        let parsed = endpoints.compactMap { endpoint -> IngestEndpoint? in
            guard let object = endpoint.objectValue, let url = object["url"]?.stringValue, let username = object["username"]?.stringValue,
                let password = object["password"]?.stringValue, !username.isEmpty
            else { return nil }
            return IngestEndpoint(url: url, username: username, password: password)
        }
        guard parsed.count == 2 else {
            throw ServiceError(.upstreamFailed, code: "InvalidResponse", "mediapackage CreateChannel: expected two HLS ingest endpoints, got \(parsed.count)")
        }
        return parsed
    }
}
