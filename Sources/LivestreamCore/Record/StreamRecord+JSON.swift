extension StreamRecord {
    /// Every field name the contract defines; anything else a client sends is an extra field.
    public static let contractFields: Set<String> = [
        "id", "name", "description", "segment_length", "rtmp1", "rtmp2", "viewer_endpoint",
        "viewer_endpoint_cloudfront", "rtmp_ivs", "ivs_viewer_endpoint", "ecs_asg_count", "last_update",
        "last_started", "last_stopped", "started", "current_session_id", "archives_path", "live_channel_id",
        "live_input_id", "package_channel_id", "package_endpoint_id", "ssm_paths", "cloudfront_associated",
        "key_rotation_interval", "startover_window_seconds", "state", "archive", "publishing", "problems",
        "pipelines",
    ]

    /// Names reserved for the service's own bookkeeping in storage backends; ignored when clients send them.
    public static func isReservedFieldName(_ name: String) -> Bool {
        name.hasPrefix("livestreamd_") || name.hasPrefix("_")
    }

    /// The stored attribute holding `sessionTimes`.
    public static let sessionTimesField = "livestreamd_sessions"

    /// The record as storage backends keep it: `apiObject` and the service's own stored fields.
    public var storedObject: JSONValue {
        guard !sessionTimes.isEmpty, case .object(var object) = apiObject else { return apiObject }
        object[StreamRecord.sessionTimesField] = .object(sessionTimes.mapValues { times in
            var entry: [String: JSONValue] = ["started": .string(times.started)]
            if let stopped = times.stopped { entry["stopped"] = .string(stopped) }
            return .object(entry)
        })
        return .object(object)
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

    /// Reads a record from its stored representation (`storedObject`), as stored by this service or the old deployment.
    ///
    /// Tolerant where the old deployment was loose (numbers written as floats or strings,
    /// timestamps written as numbers, missing optional fields, `"false"` for false); an
    /// attribute that cannot be read is left out and named in `problems`. Only a missing id
    /// makes the item unreadable.
    /// - Parameters:
    ///   - object: the stored fields.
    ///   - version: the storage version to attach.
    ///   - mediaState: plugin state kept beside the record.
    public init(apiObject object: [String: JSONValue], version: Int, mediaState: [String: JSONValue] = [:]) throws(RecordDecodingError) {
        let fields = FieldReader(object: object)
        let id = try fields.requiredString("id")
        let lastUpdate = fields.timestamp("last_update") ?? "0"
        self.init(id: id, name: fields.string("name") ?? "", lastUpdate: lastUpdate)
        description = fields.string("description") ?? ""
        segmentLength = fields.int("segment_length") ?? StreamRecord.defaultSegmentLength
        if segmentLength < 1 {
            fields.noteProblems(["segment_length: \(segmentLength) is not a length; read as \(StreamRecord.defaultSegmentLength)"])
            segmentLength = StreamRecord.defaultSegmentLength
        }
        rtmp1 = fields.string("rtmp1") ?? ""
        rtmp2 = fields.string("rtmp2") ?? ""
        viewerEndpoint = fields.string("viewer_endpoint") ?? ""
        viewerEndpointCloudfront = fields.string("viewer_endpoint_cloudfront") ?? viewerEndpoint
        lastStarted = fields.timestamp("last_started")
        lastStopped = fields.timestamp("last_stopped")
        started = fields.bool("started") ?? false
        // Old items have no state: what they say about `started` is all there is.
        state = fields.string("state") ?? (started ? StreamRecord.runningState : StreamRecord.idleState)
        currentSessionId = fields.string("current_session_id")
        archivesPath = fields.stringMap("archives_path")
        if case .object(let times)? = object[StreamRecord.sessionTimesField] {
            for (session, value) in times {
                guard case .object(let entry) = value else { continue }
                let reader = FieldReader(object: entry)
                guard let started = reader.timestamp("started") else { continue }
                sessionTimes[session] = SessionTimes(started: started, stopped: reader.timestamp("stopped"))
            }
        }
        liveChannelId = fields.string("live_channel_id") ?? ""
        liveInputId = fields.string("live_input_id") ?? ""
        packageChannelId = fields.string("package_channel_id") ?? ""
        packageEndpointId = fields.string("package_endpoint_id") ?? ""
        ssmPaths = fields.stringList("ssm_paths")
        cloudfrontAssociated = fields.bool("cloudfront_associated") ?? false
        keyRotationInterval = fields.int("key_rotation_interval") ?? StreamRecord.defaultKeyRotationInterval
        startoverWindowSeconds = fields.int("startover_window_seconds") ?? StreamRecord.defaultStartoverWindowSeconds
        if case .object(let archive)? = object["archive"] {
            let health = FieldReader(object: archive)
            archiveLastError = health.string("last_error")
            archiveLastErrorAt = health.timestamp("last_error_at")
            archiveSegments = health.int("segments")
            archiveLastSegmentAt = health.timestamp("last_segment_at")
            fields.noteProblems(health.problems.map { "archive." + $0 })
        }
        publishing = fields.intList("publishing")
        extra = object.filter { !StreamRecord.contractFields.contains($0.key) && !StreamRecord.isReservedFieldName($0.key) }
        self.mediaState = mediaState
        self.version = version
        problems = fields.problems
    }
}

/// A stored record that cannot be read as a stream record.
public struct RecordDecodingError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "field \(field): \(reason)" }
}

/// Typed access to stored fields, lenient in the ways old items need.
///
/// A value of an unexpected type is coerced where its meaning is clear (`"false"`,
/// `"120"`, `10.0`, `1` for true); otherwise the field reads as absent and the reader
/// notes the problem, so one odd attribute never hides the whole stream.
private final class FieldReader {
    let object: [String: JSONValue]
    private(set) var problems: [String] = []

    func noteProblems(_ more: [String]) {
        problems += more
    }

    init(object: [String: JSONValue]) {
        self.object = object
    }

    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    private func problem<T>(_ key: String, expected: String, found value: JSONValue) -> T? {
        problems.append("\(key): expected \(expected), found \(value.typeName); read as absent")
        return nil
    }

    func requiredString(_ key: String) throws(RecordDecodingError) -> String {
        guard case .string(let s)? = value(key), !s.isEmpty else { throw RecordDecodingError(field: key, reason: "missing") }
        return s
    }

    func string(_ key: String) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case let other?: return problem(key, expected: "a string", found: other)
        }
    }

    /// Epoch seconds as the contract's string; old items sometimes held numbers.
    func timestamp(_ key: String) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s) where !s.isEmpty && s.utf8.allSatisfy({ (0x30...0x39).contains($0) }): return s
        case .int(let i) where i >= 0: return String(i)
        case .double(let d) where d.isFinite && d >= 0 && d < 1e15: return String(Int64(d))
        case let other?: return problem(key, expected: "epoch seconds", found: other)
        }
    }

    func int(_ key: String) -> Int? {
        switch value(key) {
        case nil: return nil
        case .int(let i): return Int(i)
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        case .string(let s) where Int(s.trimmingCharacters(in: .whitespaces)) != nil: return Int(s.trimmingCharacters(in: .whitespaces))
        case let other?: return problem(key, expected: "an integer", found: other)
        }
    }

    func bool(_ key: String) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let b): return b
        case .string(let s) where ["true", "false"].contains(s.lowercased()): return s.lowercased() == "true"
        case .int(let i) where i == 0 || i == 1: return i == 1
        case let other?: return problem(key, expected: "a boolean", found: other)
        }
    }

    func stringMap(_ key: String) -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard case .object(let members) = value else { return problem(key, expected: "an object", found: value) ?? [:] }
        var result: [String: String] = [:]
        for (name, member) in members {
            guard case .string(let s) = member else {
                problems.append("\(key).\(name): expected a string, found \(member.typeName); left out")
                continue
            }
            result[name] = s
        }
        return result
    }

    func intList(_ key: String) -> [Int]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { return problem(key, expected: "an array", found: value) }
        var result: [Int] = []
        for element in elements {
            guard case .int(let i) = element else {
                problems.append("\(key): expected integers, found \(element.typeName); left out")
                continue
            }
            result.append(Int(i))
        }
        return result
    }

    func stringList(_ key: String) -> [String] {
        guard let value = value(key) else { return [] }
        guard case .array(let elements) = value else { return problem(key, expected: "an array", found: value) ?? [] }
        var result: [String] = []
        for element in elements {
            guard case .string(let s) = element else {
                problems.append("\(key): expected strings, found \(element.typeName); left out")
                continue
            }
            result.append(s)
        }
        return result
    }
}
