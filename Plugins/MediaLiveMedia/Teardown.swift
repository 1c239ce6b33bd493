import LivestreamCore

/// What is left of a stream's AWS resources to remove, in order.
///
/// A pass runs the steps in order. A step is done (removed), waiting (kept; later
/// steps still run: the input waits for its channel to reach DELETED) or failed
/// (kept; the pass stops, so order is preserved, and a later pass retries). Every
/// step treats "not found" as done, so passes are idempotent and several service
/// processes may run the same teardown.
struct Teardown: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case originEndpoint(id: String)
        case packageChannel(id: String)
        case parameters(names: [String])
        /// Stops the channel if it runs, then deletes it.
        case channel(id: String)
        /// Deleted once `channel` (if any) is DELETED or gone.
        case input(id: String, channel: String?)
    }

    var steps: [Step]

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

    /// The journal form.
    var jsonValue: JSONValue {
        .array(steps.map { step in
            switch step {
            case .originEndpoint(let id): ["kind": "origin_endpoint", "id": .string(id)]
            case .packageChannel(let id): ["kind": "package_channel", "id": .string(id)]
            case .parameters(let names): ["kind": "parameters", "names": .array(names.map(JSONValue.string))]
            case .channel(let id): ["kind": "channel", "id": .string(id)]
            case .input(let id, let channel): ["kind": "input", "id": .string(id), "channel": channel.map(JSONValue.string) ?? .null]
            }
        })
    }

    init(steps: [Step]) {
        self.steps = steps
    }

    /// Reads the journal form; nil when it is not one.
    init?(jsonValue: JSONValue) {
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
            return try gone { _ = try services.rest(services.medialive, "DELETE", "/prod/inputs/\(id)") }
        }
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
