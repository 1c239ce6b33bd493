import AWSClient
import LivestreamCore

/// What is left of a stream's AWS resources to remove, in order.
///
/// A pass runs the steps in order. A step is done (removed), waiting (kept; later
/// steps still run: the input waits for its channel to reach DELETED) or failed
/// (kept; the pass stops, so order is preserved, and a later pass retries). Every
/// step treats "not found" as done, so passes are idempotent and several service
/// processes may run the same teardown.
///
/// A create notes its teardown before its first call (write-ahead) with `unlessStoredAfter`:
/// the maintenance work leaves such a note alone until that time (the create may still be
/// running, in any process), then drops it if the stream's record was stored (the create
/// succeeded) and runs it if not (the create failed or its process died).
struct Teardown: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case originEndpoint(id: String)
        case packageChannel(id: String)
        case parameters(names: [String])
        /// Stops the channel if it runs, then deletes it.
        case channel(id: String)
        /// Deleted once `channel` (if any) is DELETED or gone.
        case input(id: String, channel: String?)
        /// Every channel tagged as the stream's (`channel` for each): a create whose answer never came.
        case taggedChannels(stream: String)
        /// Every input tagged as the stream's, deleted once no channel uses it.
        case taggedInputs(stream: String)
    }

    var steps: [Step]
    /// Epoch seconds; set on a create's write-ahead note (see above).
    var unlessStoredAfter: Int64?

    /// The order of a stream deletion: packager first, then secrets, then the encoder and its input.
    static func deletion(of record: StreamRecord) -> Teardown {
        var steps: [Step] = []
        if !record.packageEndpointId.isEmpty { steps.append(.originEndpoint(id: record.packageEndpointId)) }
        if !record.packageChannelId.isEmpty { steps.append(.packageChannel(id: record.packageChannelId)) }
        if !record.ssmPaths.isEmpty { steps.append(.parameters(names: record.ssmPaths)) }
        if !record.liveChannelId.isEmpty { steps.append(.channel(id: record.liveChannelId)) }
        if !record.liveInputId.isEmpty {
            steps.append(.input(id: record.liveInputId, channel: record.liveChannelId.isEmpty ? nil : record.liveChannelId))
        }
        return Teardown(steps: steps)
    }

    var isDone: Bool { steps.isEmpty }

    /// The journal form: the steps, or `{"steps": [...], "unless_stored_after": T}` for a create's note.
    var jsonValue: JSONValue {
        let steps = JSONValue.array(steps.map { step in
            switch step {
            case .originEndpoint(let id): ["kind": "origin_endpoint", "id": .string(id)]
            case .packageChannel(let id): ["kind": "package_channel", "id": .string(id)]
            case .parameters(let names): ["kind": "parameters", "names": .array(names.map(JSONValue.string))]
            case .channel(let id): ["kind": "channel", "id": .string(id)]
            case .input(let id, let channel): ["kind": "input", "id": .string(id), "channel": channel.map(JSONValue.string) ?? .null]
            case .taggedChannels(let stream): ["kind": "tagged_channels", "stream": .string(stream)]
            case .taggedInputs(let stream): ["kind": "tagged_inputs", "stream": .string(stream)]
            }
        })
        guard let unlessStoredAfter else { return steps }
        return ["steps": steps, "unless_stored_after": .int(unlessStoredAfter)]
    }

    init(steps: [Step], unlessStoredAfter: Int64? = nil) {
        self.steps = steps
        self.unlessStoredAfter = unlessStoredAfter
    }

    /// Reads the journal form; nil when it is not one.
    init?(jsonValue: JSONValue) {
        var jsonValue = jsonValue
        if case .object(let note) = jsonValue, case .int(let after)? = note["unless_stored_after"], let steps = note["steps"] {
            unlessStoredAfter = after
            jsonValue = steps
        }
        guard case .array(let items) = jsonValue else { return nil }
        var steps: [Step] = []
        for item in items {
            guard let object = item.objectValue, let kind = object["kind"]?.stringValue else { return nil }
            let id = object["id"]?.stringValue
            switch (kind, id) {
            case ("origin_endpoint", let id?): steps.append(.originEndpoint(id: id))
            case ("package_channel", let id?): steps.append(.packageChannel(id: id))
            case ("channel", let id?): steps.append(.channel(id: id))
            case ("input", let id?): steps.append(.input(id: id, channel: object["channel"]?.stringValue))
            case ("tagged_channels", _), ("tagged_inputs", _):
                guard let stream = object["stream"]?.stringValue else { return nil }
                steps.append(kind == "tagged_channels" ? .taggedChannels(stream: stream) : .taggedInputs(stream: stream))
            case ("parameters", _):
                guard let names = object["names"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
                steps.append(.parameters(names: names))
            default: return nil
            }
        }
        self.steps = steps
    }
}

/// Runs teardown passes against AWS.
struct TeardownRunner: Sendable {
    let services: MediaServices

    /// The outcome of one pass.
    struct Outcome: Sendable {
        var remaining: Teardown
        /// The failure that stopped the pass, if one did.
        var failure: (any Error)?
    }

    /// One pass over the steps (see `Teardown`).
    func pass(_ teardown: Teardown) -> Outcome {
        var remaining: [Teardown.Step] = []
        for (index, step) in teardown.steps.enumerated() {
            do {
                if try !run(step) { remaining.append(step) }
            } catch {
                remaining.append(contentsOf: teardown.steps[index...])
                return Outcome(remaining: Teardown(steps: remaining), failure: error)
            }
        }
        return Outcome(remaining: Teardown(steps: remaining), failure: nil)
    }

    /// - Returns: true when the step is done, false when it must wait.
    private func run(_ step: Teardown.Step) throws -> Bool {
        switch step {
        case .originEndpoint(let id):
            return try gone { _ = try services.rest(services.mediapackage, "DELETE", "/origin_endpoints/\(id)") }
        case .packageChannel(let id):
            return try gone { _ = try services.rest(services.mediapackage, "DELETE", "/channels/\(id)") }
        case .parameters(let names):
            // Names that do not exist come back as InvalidParameters, not as an error.
            _ = try services.ssm("DeleteParameters", ["Names": .array(names.map(JSONValue.string))])
            return true
        case .channel(let id):
            guard let state = try channelState(id) else { return true }
            switch state {
            case "DELETING", "DELETED":
                return true
            case "STARTING", "RUNNING":
                _ = try services.rest(services.medialive, "POST", "/prod/channels/\(id)/stop")
                return false
            case "STOPPING", "CREATING", "UPDATING", "RECOVERING":
                return false
            default:
                return try gone { _ = try services.rest(services.medialive, "DELETE", "/prod/channels/\(id)") }
            }
        case .input(let id, let channel):
            if let channel, let state = try channelState(channel), state != "DELETED" { return false }
            do {
                return try gone { _ = try services.rest(services.medialive, "DELETE", "/prod/inputs/\(id)") }
            } catch let error as AWSError where error.status == 409 {
                return false  // a channel still uses it
            }
        case .taggedChannels(let stream):
            var done = true
            for channel in try tagged("channels", of: stream) where try !run(.channel(id: channel.id)) { done = false }
            return done
        case .taggedInputs(let stream):
            var done = true
            for input in try tagged("inputs", of: stream) where !["DELETING", "DELETED"].contains(input.state) {
                do {
                    _ = try services.rest(services.medialive, "DELETE", "/prod/inputs/\(input.id)")
                } catch let error as AWSError where error.status == 409 {
                    done = false  // a channel still uses it
                } catch where MediaServices.isNotFound(error) {}
            }
            return done
        }
    }

    /// The MediaLive channels or inputs (`kind`) tagged `livestreamd:stream` = `stream`, every page listed.
    func tagged(_ kind: String, of stream: String) throws -> [(id: String, state: String)] {
        var found: [(id: String, state: String)] = []
        var token: String?
        repeat {
            var query = "maxResults=1000"
            if let token { query += "&nextToken=" + SignatureV4.uriEncode(token, keepSlash: false) }
            let page = try services.rest(services.medialive, "GET", "/prod/\(kind)", query: query).objectValue ?? [:]
            for case .object(let resource) in page[kind]?.arrayValue ?? [] {
                guard resource["tags"]?.objectValue?[MediaLivePipeline.streamTag]?.stringValue == stream, let id = resource["id"]?.stringValue else { continue }
                found.append((id, resource["state"]?.stringValue ?? "UNKNOWN"))
            }
            token = page["nextToken"]?.stringValue
        } while token != nil
        return found
    }

    /// The channel's state, nil when it does not exist.
    func channelState(_ id: String) throws -> String? {
        do {
            return try services.rest(services.medialive, "GET", "/prod/channels/\(id)").objectValue?["state"]?.stringValue ?? "UNKNOWN"
        } catch where MediaServices.isNotFound(error) {
            return nil
        }
    }

    /// Runs a delete; "not found" counts as done.
    private func gone(_ delete: () throws -> Void) throws -> Bool {
        do {
            try delete()
        } catch where MediaServices.isNotFound(error) {}
        return true
    }
}

extension CleanupJournal {
    /// Stores what a teardown pass left of `cleanup`: forgets it when the pass finished
    /// the work, else counts a failure and saves the remaining steps (when they changed,
    /// or when the cleanup is not in the journal yet).
    /// - Parameter stored: whether `cleanup` is already in the journal.
    /// - Returns: whether the work is done.
    func record(_ outcome: TeardownRunner.Outcome, of teardown: Teardown, into cleanup: inout PendingCleanup, stored: Bool) throws -> Bool {
        if outcome.remaining.isDone {
            if stored { try finish(id: cleanup.id) }
            return true
        }
        if let failure = outcome.failure {
            cleanup.attempts += 1
            cleanup.lastError = "\(failure)"
        }
        if !stored || outcome.remaining != teardown || outcome.failure != nil {
            cleanup.work = outcome.remaining.jsonValue
            try save(cleanup)
        }
        return false
    }
}
