extension StreamRecord {
    /// Every field name the contract defines; anything else a client sends is an extra field.
    public static let contractFields: Set<String> = [
        "id", "name", "description", "segment_length", "rtmp1", "rtmp2", "viewer_endpoint",
        "viewer_endpoint_cloudfront", "rtmp_ivs", "ivs_viewer_endpoint", "ecs_asg_count", "last_update",
        "last_started", "last_stopped", "started", "current_session_id", "archives_path", "live_channel_id",
        "live_input_id", "package_channel_id", "package_endpoint_id", "ssm_paths", "cloudfront_associated",
        "key_rotation_interval", "startover_window_seconds", "state", "archive", "publishing",
    ]

    /// Names reserved for the service's own bookkeeping in storage backends; ignored when clients send them.
    public static func isReservedFieldName(_ name: String) -> Bool {
        name.hasPrefix("livestreamd_") || name.hasPrefix("_")
    }

    /// The record as the API returns it (contract field names and JSON types).
    public var apiObject: JSONValue {
        var object = extra
        object["id"] = .string(id)
        object["name"] = .string(name)
        object["description"] = .string(description)
        object["segment_length"] = .int(Int64(segmentLength))
        object["rtmp1"] = .string(rtmp1)
        object["rtmp2"] = .string(rtmp2)
        object["viewer_endpoint"] = .string(viewerEndpoint)
        object["viewer_endpoint_cloudfront"] = .string(viewerEndpointCloudfront)
        object["rtmp_ivs"] = ""
        object["ivs_viewer_endpoint"] = ""
        object["ecs_asg_count"] = 0
        object["last_update"] = .string(lastUpdate)
        object["last_started"] = lastStarted.map(JSONValue.string) ?? .null
        object["last_stopped"] = lastStopped.map(JSONValue.string) ?? .null
        object["started"] = .bool(started)
        object["state"] = .string(state)
        object["current_session_id"] = currentSessionId.map(JSONValue.string) ?? .null
        object["archives_path"] = .object(archivesPath.mapValues(JSONValue.string))
        object["live_channel_id"] = .string(liveChannelId)
        object["live_input_id"] = .string(liveInputId)
        object["package_channel_id"] = .string(packageChannelId)
        object["package_endpoint_id"] = .string(packageEndpointId)
        object["ssm_paths"] = .array(ssmPaths.map(JSONValue.string))
        object["cloudfront_associated"] = .bool(cloudfrontAssociated)
        object["key_rotation_interval"] = .int(Int64(keyRotationInterval))
        object["startover_window_seconds"] = .int(Int64(startoverWindowSeconds))
        object["archive"] = archiveObject
        object["publishing"] = publishingValue
        return .object(object)
    }

    /// `{"segments", "last_segment_at", "last_error", "last_error_at"}`: what the archiver reported for the current session.
    var archiveObject: JSONValue {
        [
            "segments": archiveSegments.map { .int(Int64($0)) } ?? .null,
            "last_segment_at": archiveLastSegmentAt.map(JSONValue.string) ?? .null,
            "last_error": archiveLastError.map(JSONValue.string) ?? .null, "last_error_at": archiveLastErrorAt.map(JSONValue.string) ?? .null,
        ]
    }

    var publishingValue: JSONValue {
        publishing.map { .array($0.map { .int(Int64($0)) }) } ?? .null
    }

    /// Reads a record from its contract representation, as stored by this service or the old deployment.
    ///
    /// Tolerant where the old deployment was loose (numbers written as floats or strings,
    /// timestamps written as numbers, missing optional fields) and strict about the id.
    /// - Parameters:
    ///   - object: the stored fields.
    ///   - version: the storage version to attach.
    ///   - mediaState: plugin state kept beside the record.
    public init(apiObject object: [String: JSONValue], version: Int, mediaState: [String: JSONValue] = [:]) throws(RecordDecodingError) {
        let fields = FieldReader(object: object)
        let id = try fields.requiredString("id")
        let lastUpdate = try fields.timestamp("last_update") ?? "0"
        self.init(id: id, name: try fields.string("name") ?? "", lastUpdate: lastUpdate)
        description = try fields.string("description") ?? ""
        segmentLength = try fields.int("segment_length") ?? StreamRecord.defaultSegmentLength
        rtmp1 = try fields.string("rtmp1") ?? ""
        rtmp2 = try fields.string("rtmp2") ?? ""
        viewerEndpoint = try fields.string("viewer_endpoint") ?? ""
        viewerEndpointCloudfront = try fields.string("viewer_endpoint_cloudfront") ?? viewerEndpoint
        lastStarted = try fields.timestamp("last_started")
        lastStopped = try fields.timestamp("last_stopped")
        started = try fields.bool("started") ?? false
        // Old items have no state: what they say about `started` is all there is.
        state = try fields.string("state") ?? (started ? StreamRecord.runningState : StreamRecord.idleState)
        currentSessionId = try fields.string("current_session_id")
        archivesPath = try fields.stringMap("archives_path")
        liveChannelId = try fields.string("live_channel_id") ?? ""
        liveInputId = try fields.string("live_input_id") ?? ""
        packageChannelId = try fields.string("package_channel_id") ?? ""
        packageEndpointId = try fields.string("package_endpoint_id") ?? ""
        ssmPaths = try fields.stringList("ssm_paths")
        cloudfrontAssociated = try fields.bool("cloudfront_associated") ?? false
        keyRotationInterval = try fields.int("key_rotation_interval") ?? StreamRecord.defaultKeyRotationInterval
        startoverWindowSeconds = try fields.int("startover_window_seconds") ?? StreamRecord.defaultStartoverWindowSeconds
        if case .object(let archive)? = object["archive"] {
            let health = FieldReader(object: archive)
            archiveLastError = try health.string("last_error")
            archiveLastErrorAt = try health.timestamp("last_error_at")
            archiveSegments = try health.int("segments")
            archiveLastSegmentAt = try health.timestamp("last_segment_at")
        }
        publishing = try fields.intList("publishing")
        extra = object.filter { !StreamRecord.contractFields.contains($0.key) && !StreamRecord.isReservedFieldName($0.key) }
        self.mediaState = mediaState
        self.version = version
    }
}

/// A stored record that cannot be read as a stream record.
public struct RecordDecodingError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "field \(field): \(reason)" }
}

/// Typed access to stored fields, lenient in the ways old items need.
private struct FieldReader {
    let object: [String: JSONValue]

    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func requiredString(_ key: String) throws(RecordDecodingError) -> String {
        guard let s = try string(key) else { throw RecordDecodingError(field: key, reason: "missing") }
        return s
    }

    func string(_ key: String) throws(RecordDecodingError) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s): return s
        case let other?: throw RecordDecodingError(field: key, reason: "expected a string, found \(other.typeName)")
        }
    }

    /// Epoch seconds as the contract's string; old items sometimes held numbers.
    func timestamp(_ key: String) throws(RecordDecodingError) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(Int64(d))
        case let other?: throw RecordDecodingError(field: key, reason: "expected a timestamp, found \(other.typeName)")
        }
    }

    func int(_ key: String) throws(RecordDecodingError) -> Int? {
        switch value(key) {
        case nil: return nil
        case .int(let i): return Int(i)
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        case .string(let s) where Int(s) != nil: return Int(s)
        case let other?: throw RecordDecodingError(field: key, reason: "expected an integer, found \(other.typeName)")
        }
    }

    func bool(_ key: String) throws(RecordDecodingError) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let b): return b
        case let other?: throw RecordDecodingError(field: key, reason: "expected a boolean, found \(other.typeName)")
        }
    }

    func stringMap(_ key: String) throws(RecordDecodingError) -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard case .object(let members) = value else {
            throw RecordDecodingError(field: key, reason: "expected an object, found \(value.typeName)")
        }
        var result: [String: String] = [:]
        for (name, member) in members {
            guard case .string(let s) = member else {
                throw RecordDecodingError(field: "\(key).\(name)", reason: "expected a string, found \(member.typeName)")
            }
            result[name] = s
        }
        return result
    }

    func intList(_ key: String) throws(RecordDecodingError) -> [Int]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else {
            throw RecordDecodingError(field: key, reason: "expected an array, found \(value.typeName)")
        }
        return try elements.map { element throws(RecordDecodingError) in
            guard case .int(let i) = element else { throw RecordDecodingError(field: key, reason: "expected integers, found \(element.typeName)") }
            return Int(i)
        }
    }

    func stringList(_ key: String) throws(RecordDecodingError) -> [String] {
        guard let value = value(key) else { return [] }
        guard case .array(let elements) = value else {
            throw RecordDecodingError(field: key, reason: "expected an array, found \(value.typeName)")
        }
        var result: [String] = []
        for element in elements {
            guard case .string(let s) = element else {
                throw RecordDecodingError(field: key, reason: "expected strings, found \(element.typeName)")
            }
            result.append(s)
        }
        return result
    }
}
