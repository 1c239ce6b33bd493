import Synchronization

/// The reference `EventJournal`: events in memory (lost with the process).
public final class MemoryEventJournal: EventJournal {
    private let state = Mutex<(next: Int64, events: [StreamEvent])>((1, []))
    private let cursors = Mutex<[String: StoredCursor]>([:])

    public init() {}

    public func append(_ event: NewEvent) throws -> StreamEvent {
        state.withLock { state in
            let stored = StreamEvent(sequence: state.next, event)
            state.next += 1
            state.events.append(stored)
            return stored
        }
    }

    public func events(of streamId: String, after: Int64, limit: Int) throws -> [StreamEvent] {
        Array(state.withLock { $0.events }.lazy.filter { $0.streamId == streamId && $0.sequence > after }.prefix(limit))
    }

    public func feed(after: Int64, limit: Int) throws -> [StreamEvent] {
        Array(state.withLock { $0.events }.lazy.filter { $0.sequence > after }.prefix(limit))
    }

    public func prune(before cutoff: Int64) throws {
        state.withLock { $0.events.removeAll { $0.at < cutoff } }
    }

    public func latestSequence() throws -> Int64 {
        state.withLock { $0.next - 1 }
    }

    public func cursor(_ name: String) throws -> StoredCursor? {
        cursors.withLock { $0[name] }
    }

    public func storeCursor(_ name: String, value: JSONValue, replacing version: Int?) throws -> Bool {
        cursors.withLock { cursors in
            guard cursors[name]?.version == version else { return false }
            cursors[name] = StoredCursor(value: value, version: (version ?? 0) + 1)
            return true
        }
    }
}
