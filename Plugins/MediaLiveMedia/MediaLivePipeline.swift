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

        public init(
            roleArn: String, inputSecurityGroup: String, ingestApp: String = "live", spekeURL: String? = nil, spekeRoleArn: String? = nil,
            namesFromStream: Bool = true, hlsPackage: [String: JSONValue] = [:]
        ) {
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
    static let parameterPrefix = "/Medialive_api/"
    static let segmentDurationSeconds = 6

    let settings: Settings
    let template: ChannelTemplate
    let services: MediaServices
    let archive: any ArchiveStore
    let journal: any CleanupJournal
    let work: MediaLiveMaintenance
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
        self.logger = logger
        self.now = now
        self.work = MediaLiveMaintenance(services: services, store: store, interval: refreshInterval, logger: logger)
    }

    public var maintenance: (any MaintenanceWork)? { work }

    var runner: TeardownRunner { TeardownRunner(services: services) }

    // MARK: - create

    public func create(streamId: String, name: String, description: String, segmentLength: Int) throws -> MediaResources {
        // Named as the old deployment named them (operators find streams by name in the AWS console).
        let resourceName = name.isEmpty || !settings.namesFromStream ? "livestreamd-\(streamId)" : name
        let resourceDescription = description.isEmpty || !settings.namesFromStream ? "livestreamd stream \(streamId)" : description
        var built = Teardown(steps: [])
        var operation = "CreateChannel"
        let tags = ["livestreamd:stream": streamId]
        var secrets: [String] = []
        do {
            let channel = try services.rest(services.mediapackage, "POST", "/channels", body: [
                "id": .string(streamId), "description": .string(resourceDescription), "tags": .object(tags.mapValues(JSONValue.string)),
            ])
            built.steps.insert(.packageChannel(id: streamId), at: 0)
            let ingest = try IngestEndpoint.all(in: channel)

            operation = "PutParameter"
            var parameters: [String] = []
            for endpoint in ingest {
                let name = MediaLivePipeline.parameterPrefix + endpoint.username
                secrets.append(endpoint.password)
                _ = try services.ssm("PutParameter", [
                    "Name": .string(name), "Value": .string(endpoint.password), "Type": "SecureString",
                    "Description": .string("MediaPackage ingest password of livestreamd stream \(streamId)"),
                ])
                parameters.append(name)
                built.steps.removeAll { if case .parameters = $0 { true } else { false } }
                built.steps.insert(.parameters(names: parameters), at: 0)
            }

            operation = "CreateOriginEndpoint"
            // The endpoint id is the stream id: the old deployment's handlers, possibly running beside us, address it so.
            let endpointId = streamId
            var endpointBody = endpointSettings(streamId: streamId, startover: StreamRecord.defaultStartoverWindowSeconds, keyRotation: StreamRecord.defaultKeyRotationInterval)
            endpointBody["id"] = .string(endpointId)
            endpointBody["description"] = .string(resourceDescription)
            endpointBody["channelId"] = .string(streamId)
            endpointBody["tags"] = .object(tags.mapValues(JSONValue.string))
            let endpoint = try services.rest(services.mediapackage, "POST", "/origin_endpoints", body: .object(endpointBody))
            built.steps.insert(.originEndpoint(id: endpointId), at: 0)
            guard let viewerEndpoint = endpoint.objectValue?["url"]?.stringValue, !viewerEndpoint.isEmpty else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "mediapackage CreateOriginEndpoint: the answer has no url")
            }

            operation = "CreateInput"
            let keys = [Identifier.secret(bytes: 16), Identifier.secret(bytes: 16)]
            secrets += keys
            let input = try services.rest(services.medialive, "POST", "/prod/inputs", body: [
                "name": .string(resourceName), "type": "RTMP_PUSH",
                "destinations": .array(keys.map { ["streamName": .string("\(settings.ingestApp)/\($0)")] }),
                "inputSecurityGroups": [.string(settings.inputSecurityGroup)], "requestId": .string(Identifier.make()),
                "tags": .object(tags.mapValues(JSONValue.string)),
            ]).objectValue?["input"]?.objectValue ?? [:]
            guard let inputId = input["id"]?.stringValue else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateInput: the answer has no input id")
            }
            built.steps.insert(.input(id: inputId, channel: nil), at: 0)
            let urls = input["destinations"]?.arrayValue?.compactMap { $0.objectValue?["url"]?.stringValue } ?? []
            guard urls.count == 2 else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateInput: expected two destination URLs, got \(urls.count)")
            }

            operation = "CreateChannel"
            let placeholder = try archive.sessionRoot(streamId: streamId, startedAt: now(), requestedPath: nil)
            let body = template.createChannelBody(
                name: resourceName, roleArn: settings.roleArn, inputId: inputId, requestId: Identifier.make(),
                segmentLength: segmentLength, destinations: destinations(ingest: ingest, parameters: parameters, archiveRoot: placeholder), tags: tags)
            let created = try services.rest(services.medialive, "POST", "/prod/channels", body: body).objectValue?["channel"]?.objectValue ?? [:]
            guard let channelId = created["id"]?.stringValue else {
                throw ServiceError(.upstreamFailed, code: "InvalidResponse", "medialive CreateChannel: the answer has no channel id")
            }
            return MediaResources(
                rtmp1: urls[0], rtmp2: urls[1], viewerEndpoint: viewerEndpoint, liveChannelId: channelId, liveInputId: inputId,
                packageChannelId: streamId, packageEndpointId: endpointId, ssmPaths: parameters,
                state: created["state"]?.stringValue ?? "CREATING")
        } catch {
            undo(built, streamId: streamId)
            throw MediaServices.failure(error, doing: operation, hiding: secrets)
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
                guard let state = try? runner.channelState(record.liveChannelId), ["STARTING", "RUNNING"].contains(state) else { throw error }
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
        let outcome = runner.pass(teardown)
        do {
            if try !journal.record(outcome, of: teardown, into: &cleanup, stored: true) { work.wakeup.request() }
        } catch {
            // The journal still holds the whole teardown; repeating done steps is harmless.
            logger.warning("could not update a pending cleanup", metadata: ["stream": "\(record.id)", "error": "\(error)"])
        }
        if let failure = outcome.failure {
            logger.warning("stream deleted; its teardown continues in the background", metadata: ["stream": "\(record.id)", "error": "\(failure)"])
        }
    }

    /// Removes what a failed create built; journals what it cannot remove now.
    func undo(_ built: Teardown, streamId: String) {
        guard !built.isDone else { return }
        let outcome = runner.pass(built)
        var cleanup = PendingCleanup(owner: MediaLivePipeline.owner, streamId: streamId, work: built.jsonValue, createdAt: now())
        do {
            guard try !journal.record(outcome, of: built, into: &cleanup, stored: false) else { return }
            work.wakeup.request()
            logger.warning("undo of a failed create continues in the background", metadata: ["stream": "\(streamId)", "pending": "\(outcome.remaining.steps.count)"])
        } catch {
            logger.error("undo failed and could not be journaled; resources are left", metadata: ["stream": "\(streamId)", "work": "\(outcome.remaining.jsonValue)", "error": "\(error)"])
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
