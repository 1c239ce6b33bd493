import Foundation
import Logging

/// Every state change of every stream, in one order, kept by the storage plugin (seam `storage`).
///
/// Each event gets the next sequence number of the store: increasing, never reused, and
/// unique across all service processes sharing the store, so readers page with
/// `after` and webhook delivery keeps a cursor. Events of a stream are in the order they
/// were appended; `data.version` (where a record write caused the event) orders them as
/// the record changed. `MemoryEventJournal` is the reference and test double.
public protocol EventJournal: Sendable {
    /// Appends an event with the next sequence number and a new id.
    @discardableResult
    func append(_ event: NewEvent) throws -> StreamEvent

    /// One stream's events with a sequence number above `after`, ascending, at most `limit`.
    func events(of streamId: String, after: Int64, limit: Int) throws -> [StreamEvent]

    /// Every stream's events with a sequence number above `after`, ascending, at most `limit`.
    func feed(after: Int64, limit: Int) throws -> [StreamEvent]

    /// Forgets events recorded before `cutoff` (epoch milliseconds): the retention.
    func prune(before cutoff: Int64) throws

    /// The highest sequence number handed out so far (0: none).
    func latestSequence() throws -> Int64

    /// A named cursor of a journal reader (a webhook receiver's delivery state), with its version; nil: none stored.
    func cursor(_ name: String) throws -> StoredCursor?

    /// Stores a named cursor if its stored version is still `version` (nil: none stored yet).
    /// - Returns: false when another writer (another process) stored it first; nothing was written.
    func storeCursor(_ name: String, value: JSONValue, replacing version: Int?) throws -> Bool
}

/// A journal reader's cursor as stored: its value and compare-and-set version.
public struct StoredCursor: Sendable, Equatable {
    public var value: JSONValue
    public var version: Int

    public init(value: JSONValue, version: Int) {
        self.value = value
        self.version = version
    }
}

/// An event about to be appended.
public struct NewEvent: Sendable, Equatable {
    public var streamId: String
    public var type: EventType
    /// Epoch milliseconds.
    public var at: Int64
    /// What changed, in the event's own terms; never secrets.
    public var data: [String: JSONValue]

    public init(streamId: String, type: EventType, at: Int64, data: [String: JSONValue] = [:]) {
        self.streamId = streamId
        self.type = type
        self.at = at
        self.data = data
    }
}

/// One journaled state change.
public struct StreamEvent: Sendable, Equatable {
    /// The store's order of events.
    public var sequence: Int64
    /// `evt_` + 32 hex: unique, the id webhook receivers dedupe by.
    public var id: String
    public var streamId: String
    public var type: EventType
    /// Epoch milliseconds.
    public var at: Int64
    public var data: [String: JSONValue]

    public init(sequence: Int64, id: String, streamId: String, type: EventType, at: Int64, data: [String: JSONValue]) {
        self.sequence = sequence
        self.id = id
        self.streamId = streamId
        self.type = type
        self.at = at
        self.data = data
    }

    public init(sequence: Int64, id: String = "evt_" + Identifier.make(), _ new: NewEvent) {
        self.init(sequence: sequence, id: id, streamId: new.streamId, type: new.type, at: new.at, data: new.data)
    }

    /// The stored and API form: `{"sequence", "id", "stream_id", "type", "at", "data"}`.
    public var jsonValue: JSONValue {
        [
            "sequence": .int(sequence), "id": .string(id), "stream_id": .string(streamId), "type": .string(type.rawValue), "at": .int(at),
            "data": .object(data),
        ]
    }

    /// Reads the stored form; nil for anything else.
    public init?(jsonValue: JSONValue) {
        guard case .object(let object) = jsonValue, case .int(let sequence)? = object["sequence"], let id = object["id"]?.stringValue,
            let streamId = object["stream_id"]?.stringValue, let type = object["type"]?.stringValue, case .int(let at)? = object["at"]
        else { return nil }
        self.init(sequence: sequence, id: id, streamId: streamId, type: EventType(rawValue: type), at: at, data: object["data"]?.objectValue ?? [:])
    }
}

/// What happened (`type` of events and webhook payloads).
public struct EventType: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    public static let created: EventType = "stream.created"
    public static let updated: EventType = "stream.updated"
    public static let started: EventType = "stream.started"
    public static let stopped: EventType = "stream.stopped"
    public static let deleted: EventType = "stream.deleted"
    public static let publisherConnected: EventType = "pipeline.publisher_connected"
    public static let publisherDisconnected: EventType = "pipeline.publisher_disconnected"
    public static let archiveFailed: EventType = "archive.segment_failed"
    public static let splitDone: EventType = "archive.split_done"
    public static let sessionDeleted: EventType = "archive.session_deleted"
    public static let cdnAssociated: EventType = "cdn.associated"
    public static let cdnDissociated: EventType = "cdn.dissociated"
    public static let cleanupPending: EventType = "cleanup.pending"
    public static let cleanupDone: EventType = "cleanup.done"

    /// Every type the service emits, for configuration checks.
    public static let all: [EventType] = [
        .created, .updated, .started, .stopped, .deleted, .publisherConnected, .publisherDisconnected, .archiveFailed, .splitDone, .sessionDeleted,
        .cdnAssociated, .cdnDissociated, .cleanupPending, .cleanupDone,
    ]
}

extension StreamStore {
    /// Journals a change that is already stored, if this store keeps a journal. A journal that
    /// cannot be written is logged, never the caller's failure: the change itself happened.
    public func journal(_ type: EventType, streamId: String, data: [String: JSONValue] = [:], at: Int64 = EventClock.nowMilliseconds(), logger: Logger) {
        guard let events else { return }
        do {
            try events.append(NewEvent(streamId: streamId, type: type, at: at, data: data))
            ServiceMetrics.event(type)
        } catch {
            logger.error("cannot journal an event", metadata: ["stream": "\(streamId)", "type": "\(type)", "error": "\(error)"])
        }
    }
}

/// Event times: epoch milliseconds.
public enum EventClock {
    public static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
