/// `POST /streams`: what a client may set at create.
public struct CreateStreamInput: Sendable, Equatable {
    public var name: String
    public var description: String
    public var segmentLength: Int
    public var extra: [String: JSONValue]

    public init(json body: JSONValue?) throws(ServiceError) {
        let members = try FieldValidation.object(body, allowEmpty: false)
        name = try FieldValidation.text(members["name"], field: "name", maxLength: 256, required: true, allowEmpty: true) ?? ""
        description = try FieldValidation.text(members["description"], field: "description", maxLength: 4096, required: false, allowNewlines: true) ?? ""
        segmentLength = try FieldValidation.integer(members["segment_length"], field: "segment_length", range: 1...86400)
            ?? StreamRecord.defaultSegmentLength
        extra = try FieldValidation.extraFields(members)
    }
}

/// `POST /streams/{id}`: the user fields of a record; everything server-managed is ignored.
///
/// No body changes nothing (the old deployment's Postman collection sends none).
public struct UpdateStreamInput: Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var extra: [String: JSONValue]

    public init(json body: JSONValue?) throws(ServiceError) {
        let members = try FieldValidation.object(body, allowEmpty: true)
        name = try FieldValidation.text(members["name"], field: "name", maxLength: 256, required: members["name"] != nil, allowEmpty: true)
        description = try FieldValidation.text(members["description"], field: "description", maxLength: 4096, required: false, allowNewlines: true)
        extra = try FieldValidation.extraFields(members)
    }
}

/// `POST /streams/{id}/start`: optional archive path and packaging settings.
public struct StartStreamInput: Sendable, Equatable {
    public var path: String?
    public var startoverWindowSeconds: Int?
    public var keyRotationInterval: Int?

    public init(path: String? = nil, startoverWindowSeconds: Int? = nil, keyRotationInterval: Int? = nil) {
        self.path = path
        self.startoverWindowSeconds = startoverWindowSeconds
        self.keyRotationInterval = keyRotationInterval
    }

    public init(json body: JSONValue?) throws(ServiceError) {
        let members = try FieldValidation.object(body, allowEmpty: true)
        path = try FieldValidation.text(members["path"], field: "path", maxLength: 1024, required: false)
        if let path, path.isEmpty { throw .badRequest("path must not be empty") }
        startoverWindowSeconds = try FieldValidation.integer(members["startover_window_seconds"], field: "startover_window_seconds", range: 0...1_209_600)
        keyRotationInterval = try FieldValidation.integer(members["key_rotation_interval"], field: "key_rotation_interval", range: 0...31_536_000)
    }
}

/// `POST /streams/{id}/split`: the session, the ranges and the playlist name modifier.
public struct SplitInput: Sendable, Equatable {
    public var sessionId: String
    public var ranges: [TimeRange]
    public var nameModifier: String?
    /// Cut each clip's edges at the asked times (re-encoding only what lies between a cut and the nearest keyframe).
    public var exact: Bool

    /// The most ranges one request may ask for.
    public static let maxRanges = 1000

    public init(json body: JSONValue?) throws(ServiceError) {
        let members = try FieldValidation.object(body, allowEmpty: false)
        sessionId = try FieldValidation.identifier(members["session_id"], field: "session_id")
        guard case .array(let list)? = members["timestamp_list"] else {
            throw .badRequest("timestamp_list is required: an array of {\"start\", \"end\"} objects")
        }
        guard list.count <= SplitInput.maxRanges else { throw .badRequest("timestamp_list has more than \(SplitInput.maxRanges) ranges") }
        var ranges: [TimeRange] = []
        for (index, item) in list.enumerated() {
            guard case .object(let range) = item else {
                throw .badRequest("timestamp_list[\(index)] must be an object with start and end")
            }
            let start = try FieldValidation.seconds(range["start"], field: "timestamp_list[\(index)].start")
            let end = try FieldValidation.seconds(range["end"], field: "timestamp_list[\(index)].end")
            // An end at or before the start is an empty range: an empty playlist, as the old deployment wrote.
            ranges.append(TimeRange(start: start, end: max(start, end)))
        }
        self.ranges = ranges
        switch members["name_modifier"] {
        case nil, .null?:
            nameModifier = nil
        case .string(let text)? where SplitInput.isValidNameModifier(text):
            nameModifier = text
        default:
            throw .badRequest("name_modifier must be a string of at most 50 characters without control characters, '/' or '\\'")
        }
        switch members["exact"] {
        case nil, .null?: exact = false
        case .bool(let flag)?: exact = flag
        default: throw .badRequest("exact must be true or false")
        }
        guard !exact || ranges.count <= SplitInput.maxExactRanges else {
            throw .badRequest("an exact split takes at most \(SplitInput.maxExactRanges) ranges (each cuts two edges)")
        }
    }

    /// The most ranges one exact split may ask for: each runs the encoder on its edges.
    public static let maxExactRanges = 20

    /// What may go into `index_<name_modifier>_<n>.m3u8`: any text the old deployment took,
    /// except what would leave the session folder or break a file name (at most 50 code
    /// points, so the file name stays within 255 bytes; no control characters, `/` or `\`).
    /// Empty is allowed, as it was.
    public static func isValidNameModifier(_ text: String) -> Bool {
        text.unicodeScalars.count <= 50
            && !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "/" || $0 == "\\" }
    }
}
