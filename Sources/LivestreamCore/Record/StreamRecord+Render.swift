extension StreamRecord {
    /// The API JSON of the record, written directly (the same bytes as `apiObject.serialized()`,
    /// plus `problems` when the stored item had attributes that could not be read, and
    /// `pipelines` when the media backend told the status).
    ///
    /// Records are rendered on every read; building the intermediate dictionary cost
    /// more than the rest of a GET.
    public func writeAPIJSON(to out: inout [UInt8]) {
        var fields: [(String, (inout [UInt8]) -> Void)] = [
            ("archive", { archiveObject.write(to: &$0) }),
            ("archives_path", { JSONValue.object(archivesPath.mapValues(JSONValue.string)).write(to: &$0) }),
            ("cloudfront_associated", { JSONValue.bool(cloudfrontAssociated).write(to: &$0) }),
            ("current_session_id", { Self.write(optional: currentSessionId, to: &$0) }),
            ("description", { JSONValue.writeString(description, to: &$0) }),
            ("ecs_asg_count", { $0.append(UInt8(ascii: "0")) }),
            ("id", { JSONValue.writeString(id, to: &$0) }),
            ("ivs_viewer_endpoint", { JSONValue.writeString("", to: &$0) }),
            ("key_rotation_interval", { $0.append(contentsOf: String(keyRotationInterval).utf8) }),
            ("last_started", { Self.write(optional: lastStarted, to: &$0) }),
            ("last_stopped", { Self.write(optional: lastStopped, to: &$0) }),
            ("last_update", { JSONValue.writeString(lastUpdate, to: &$0) }),
            ("live_channel_id", { JSONValue.writeString(liveChannelId, to: &$0) }),
            ("live_input_id", { JSONValue.writeString(liveInputId, to: &$0) }),
            ("name", { JSONValue.writeString(name, to: &$0) }),
            ("package_channel_id", { JSONValue.writeString(packageChannelId, to: &$0) }),
            ("package_endpoint_id", { JSONValue.writeString(packageEndpointId, to: &$0) }),
            ("publishing", { publishingValue.write(to: &$0) }),
            ("rtmp1", { JSONValue.writeString(rtmp1, to: &$0) }),
            ("rtmp2", { JSONValue.writeString(rtmp2, to: &$0) }),
            ("rtmp_ivs", { JSONValue.writeString("", to: &$0) }),
            ("segment_length", { $0.append(contentsOf: String(segmentLength).utf8) }),
            ("ssm_paths", { JSONValue.array(ssmPaths.map(JSONValue.string)).write(to: &$0) }),
            ("started", { JSONValue.bool(started).write(to: &$0) }),
            ("startover_window_seconds", { $0.append(contentsOf: String(startoverWindowSeconds).utf8) }),
            ("state", { JSONValue.writeString(state, to: &$0) }),
            ("viewer_endpoint", { JSONValue.writeString(viewerEndpoint, to: &$0) }),
            ("viewer_endpoint_cloudfront", { JSONValue.writeString(viewerEndpointCloudfront, to: &$0) }),
        ]
        if !problems.isEmpty {
            fields.append(("problems", { JSONValue.array(problems.map(JSONValue.string)).write(to: &$0) }))
        }
        if let pipelines {
            fields.append(("pipelines", { JSONValue.array(pipelines.map(\.apiObject)).write(to: &$0) }))
        }
        if !extra.isEmpty || !problems.isEmpty || pipelines != nil {
            for (key, value) in extra where !StreamRecord.contractFields.contains(key) {
                fields.append((key, { value.write(to: &$0) }))
            }
            fields.sort { $0.0 < $1.0 }
        }
        out.append(UInt8(ascii: "{"))
        for (position, field) in fields.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(field.0, to: &out)
            out.append(UInt8(ascii: ":"))
            field.1(&out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The API JSON of the record.
    public var apiJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        writeAPIJSON(to: &out)
        return out
    }

    /// The API JSON of a list of records.
    public static func apiJSON(_ records: [StreamRecord]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(records.count * 1024 + 2)
        for (position, record) in records.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            record.writeAPIJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    private static func write(optional text: String?, to out: inout [UInt8]) {
        if let text { JSONValue.writeString(text, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }
}
