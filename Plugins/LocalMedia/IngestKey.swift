import LivestreamCore

/// Stream keys and public names of the local pipeline.
///
/// A key is `<stream id>_<32 hex secret>`: the id finds the record in one read, the
/// secret is compared in constant time with the record's `rtmp1`/`rtmp2` keys.
enum IngestKey {
    static func make(streamId: String) -> String {
        streamId + "_" + Identifier.secret(bytes: 16)
    }

    /// The stream id a key claims, if it has the key format.
    static func streamId(of key: String) -> String? {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, Identifier.isValid(parts[0]), parts[1].utf8.count == 32 else { return nil }
        return String(parts[0])
    }

    /// The key inside an ingest URL (its last path component).
    static func key(inURL url: String) -> String {
        url.split(separator: "/").last.map(String.init) ?? ""
    }

    /// The pipeline (1 or 2) whose key this is, compared in constant time.
    static func pipeline(of key: String, in record: StreamRecord) -> Int? {
        let primary = constantTimeEquals(key, IngestKey.key(inURL: record.rtmp1))
        let backup = constantTimeEquals(key, IngestKey.key(inURL: record.rtmp2))
        return primary ? 1 : backup ? 2 : nil
    }

    /// The name the stream is published under after the key check: `<id>` or `<id>-backup`.
    static func publicName(streamId: String, pipeline: Int) -> String {
        pipeline == 1 ? streamId : streamId + "-backup"
    }

    /// Stream id and pipeline of a public name.
    static func parsePublicName(_ name: String) -> (streamId: String, pipeline: Int)? {
        if Identifier.isValid(name) { return (name, 1) }
        if name.hasSuffix("-backup"), Identifier.isValid(name.dropLast("-backup".count)) {
            return (String(name.dropLast("-backup".count)), 2)
        }
        return nil
    }
}

/// The connected publishers of a stream (nginx-rtmp client id by pipeline, and since when), kept in the record's media state.
struct Publishers: Equatable {
    var clients: [Int: String]
    /// When each pipeline's publisher was accepted (epoch seconds); kept only for those in `clients`.
    var since: [Int: String]

    init(_ mediaState: [String: JSONValue]) {
        func byPipeline(_ key: String) -> [Int: String] {
            var values: [Int: String] = [:]
            for (pipeline, value) in mediaState[key]?.objectValue ?? [:] {
                if let number = Int(pipeline), let text = value.stringValue { values[number] = text }
            }
            return values
        }
        clients = byPipeline("publishers")
        since = byPipeline("publishers_since")
    }

    var isEmpty: Bool { clients.isEmpty }

    /// Stores the publishers in the record's media state and says which pipelines publish (`publishing`);
    /// a stop waiting for its last publisher to go (`STOPPING`) is then complete.
    func store(into record: inout StreamRecord) {
        func object(_ values: [Int: String]) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: values.map { (String($0.key), JSONValue.string($0.value)) }))
        }
        record.mediaState["publishers"] = object(clients)
        record.mediaState["publishers_since"] = object(since.filter { clients[$0.key] != nil })
        record.publishing = clients.keys.sorted()
        if clients.isEmpty && !record.started && record.state == LocalMediaPipeline.stoppingState { record.state = StreamRecord.idleState }
    }
}
