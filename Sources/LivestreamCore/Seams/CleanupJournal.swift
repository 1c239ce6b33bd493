/// Teardown work that could not finish when it was started, kept durably until it is done.
///
/// A media plugin records a `PendingCleanup` when an undo fails or when a resource can
/// only go later (a MediaLive input once its channel is deleted); its maintenance work
/// retries the cleanup until it is done, also after a restart. Each storage plugin
/// keeps the journal beside the records, so every service process sharing a store
/// sees the same pending work. `MemoryCleanupJournal` is the reference and test double.
public protocol CleanupJournal: Sendable {
    /// Adds the cleanup, or replaces the one with its id.
    func save(_ cleanup: PendingCleanup) throws

    /// Every pending cleanup, oldest first.
    func pending() throws -> [PendingCleanup]

    /// Forgets a finished cleanup (no error when it is already gone).
    func finish(id: String) throws
}

/// One piece of pending teardown work.
public struct PendingCleanup: Sendable, Equatable {
    /// 32 lowercase hex.
    public var id: String
    /// The plugin that knows how to run it (e.g. `medialive`).
    public var owner: String
    /// The stream the resources belonged to.
    public var streamId: String
    /// What is left to do, in the owner's own terms.
    public var work: JSONValue
    /// Epoch seconds when it was first recorded.
    public var createdAt: Int64
    /// Failed attempts so far.
    public var attempts: Int
    /// Why the last attempt failed (no secrets: AWS codes and messages only).
    public var lastError: String?

    public init(id: String = Identifier.make(), owner: String, streamId: String, work: JSONValue, createdAt: Int64, attempts: Int = 0, lastError: String? = nil) {
        self.id = id
        self.owner = owner
        self.streamId = streamId
        self.work = work
        self.createdAt = createdAt
        self.attempts = attempts
        self.lastError = lastError
    }

    /// The stored form.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "owner": .string(owner), "stream_id": .string(streamId), "work": work,
            "created_at": .int(createdAt), "attempts": .int(Int64(attempts)),
        ]
        if let lastError { object["last_error"] = .string(lastError) }
        return .object(object)
    }

    /// Reads the stored form; nil for anything else.
    public init?(jsonValue: JSONValue) {
        guard case .object(let object) = jsonValue, let id = object["id"]?.stringValue, Identifier.isValid(id),
            let owner = object["owner"]?.stringValue, let streamId = object["stream_id"]?.stringValue, let work = object["work"],
            case .int(let createdAt)? = object["created_at"], case .int(let attempts)? = object["attempts"]
        else { return nil }
        self.init(id: id, owner: owner, streamId: streamId, work: work, createdAt: createdAt, attempts: Int(attempts), lastError: object["last_error"]?.stringValue)
    }
}
