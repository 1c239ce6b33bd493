import LivestreamCore

/// The MediaLive channel every stream gets: a CreateChannel request body with the per-stream parts left out.
///
/// The template is the JSON body of MediaLive's REST `CreateChannel` (the API
/// reference's camelCase names) holding `channelClass`, `logLevel`,
/// `inputSpecification`, `encoderSettings`, plus `inputSettings` for the one input
/// attachment. The plugin adds the name, role, input attachment, destinations, tags
/// and request id, and sets every archive group's `rolloverInterval` to the stream's
/// `segment_length`. Output groups must write to the destinations
/// `mediapackage` (the packager's two ingest endpoints) and `archive` (the session's
/// `<root>_1`, `<root>_2`). The shipped template (`channel-template.json`) is an ABR
/// ladder 1080p/720p/540p/360p to MediaPackage and a 1080p MPEG-TS archive named
/// `<destination>$dt$.<counter>.ts` (`_120261125T101010.000003.ts`, the old deployment's names).
struct ChannelTemplate: Sendable {
    static let packagerDestination = "mediapackage"
    static let archiveDestination = "archive"
    /// Keys the plugin sets itself; a template carrying them is refused rather than silently overridden.
    static let reserved = ["name", "roleArn", "inputAttachments", "destinations", "tags", "requestId"]

    let body: [String: JSONValue]

    /// The template shipped with the service.
    static func shipped() throws(ConfigurationError) -> ChannelTemplate {
        try ChannelTemplate(json: PackageResources.channel_template_json, source: "the shipped channel template")
    }

    init(json: [UInt8], source: String) throws(ConfigurationError) {
        guard case .object(let body)? = try? JSONValue.parse(json, maxDepth: 128) else {
            throw ConfigurationError("\(source) is not a JSON object")
        }
        for key in ChannelTemplate.reserved where body[key] != nil {
            throw ConfigurationError("\(source) sets \(key), which the service fills in per stream")
        }
        guard case .object(let encoder)? = body["encoderSettings"], case .array(let groups)? = encoder["outputGroups"] else {
            throw ConfigurationError("\(source) has no encoderSettings.outputGroups")
        }
        let referenced = Set(groups.compactMap { group -> String? in
            guard case .object(let settings)? = group.objectValue?["outputGroupSettings"], let (_, inner) = settings.first else { return nil }
            return inner.objectValue?["destination"]?.objectValue?["destinationRefId"]?.stringValue
        })
        for destination in [ChannelTemplate.packagerDestination, ChannelTemplate.archiveDestination] where !referenced.contains(destination) {
            throw ConfigurationError("\(source): no output group writes to destination '\(destination)'")
        }
        guard ChannelTemplate.archiveGroupCount(groups) > 0 else {
            throw ConfigurationError("\(source): the '\(ChannelTemplate.archiveDestination)' destination needs an archiveGroupSettings output group")
        }
        self.body = body
    }

    /// The destination ids an existing channel's archive output groups write to.
    ///
    /// Found through `encoderSettings.outputGroups[].outputGroupSettings.archiveGroupSettings`,
    /// whatever the destinations are called: the old deployment's channels name theirs
    /// `Archive` (and `MediaPackage`). A channel without archive groups gives `[]`.
    static func archiveDestinationIds(ofChannel channel: [String: JSONValue]) -> [String] {
        let groups = channel["encoderSettings"]?.objectValue?["outputGroups"]?.arrayValue ?? []
        var ids: [String] = []
        for group in groups {
            guard let archive = group.objectValue?["outputGroupSettings"]?.objectValue?["archiveGroupSettings"]?.objectValue,
                let id = archive["destination"]?.objectValue?["destinationRefId"]?.stringValue, !ids.contains(id)
            else { continue }
            ids.append(id)
        }
        return ids
    }

    /// The CreateChannel body for one stream.
    func createChannelBody(
        name: String, roleArn: String, inputId: String, requestId: String, segmentLength: Int,
        destinations: [JSONValue], tags: [String: String]
    ) -> JSONValue {
        var request = body
        var attachment: [String: JSONValue] = ["inputId": .string(inputId), "inputAttachmentName": .string(name)]
        if let inputSettings = request.removeValue(forKey: "inputSettings") { attachment["inputSettings"] = inputSettings }
        if case .object(var encoder)? = request["encoderSettings"], case .array(var groups)? = encoder["outputGroups"] {
            for index in groups.indices {
                guard case .object(var group) = groups[index], case .object(var settings)? = group["outputGroupSettings"],
                    case .object(var archive)? = settings["archiveGroupSettings"]
                else { continue }
                archive["rolloverInterval"] = .int(Int64(segmentLength))
                settings["archiveGroupSettings"] = .object(archive)
                group["outputGroupSettings"] = .object(settings)
                groups[index] = .object(group)
            }
            encoder["outputGroups"] = .array(groups)
            request["encoderSettings"] = .object(encoder)
        }
        request["name"] = .string(name)
        request["roleArn"] = .string(roleArn)
        request["requestId"] = .string(requestId)
        request["inputAttachments"] = [.object(attachment)]
        request["destinations"] = .array(destinations)
        request["tags"] = .object(tags.mapValues(JSONValue.string))
        return .object(request)
    }

    private static func archiveGroupCount(_ groups: [JSONValue]) -> Int {
        groups.filter { $0.objectValue?["outputGroupSettings"]?.objectValue?["archiveGroupSettings"] != nil }.count
    }
}
