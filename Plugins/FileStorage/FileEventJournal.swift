import Foundation
import LivestreamCore
import Synchronization

/// The file store's `EventJournal`: one append-only file of JSON lines per stream in
/// `<directory>/.events/` (`<stream id>.jsonl`), numbered from `.sequence`.
///
/// An append takes an exclusive `flock` on `.sequence` (across threads and processes),
/// stores the next number there first (fsync) and then appends the event (fsync): a crash
/// between the two leaves a gap in the numbers, never a number used twice. A line a crash
/// cut short is skipped by readers and closed by the next append. Readers take no lock:
/// each file is read once and then only its new tail. Events older than the retention go
/// at most once an hour, with the first append after that.
final class FileEventJournal: EventJournal {
    let directory: String
    private let retention: Duration
    private let now: @Sendable () -> Int64
    /// Parsed files: name -> (inode, bytes read, the events of its complete lines).
    private let parsed = Mutex<[String: ParsedFile]>([:])
    private let pruning = PruneSchedule()

    struct ParsedFile {
        var inode: UInt64
        var offset: Int
        var events: [StreamEvent]
    }

    /// - Parameters:
    ///   - retention: how long events are kept.
    ///   - now: epoch milliseconds (tests).
    init(storeDirectory: String, retention: Duration, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws {
        directory = storeDirectory + "/.events"
        self.retention = retention
        self.now = now
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    func append(_ event: NewEvent) throws -> StreamEvent {
        let stored = try withSequenceLock { fd in
            let sequence = try FileEventJournal.readCounter(fd) + 1
            try FileEventJournal.writeCounter(sequence, to: fd)
            let stored = StreamEvent(sequence: sequence, event)
            try appendLine(stored.jsonValue.serialized(), to: path(of: event.streamId))
            return stored
        }
        pruneIfDue()
        return stored
    }

    func events(of streamId: String, after: Int64, limit: Int) throws -> [StreamEvent] {
        Array(try read(fileName(of: streamId)).lazy.filter { $0.sequence > after }.prefix(limit))
    }

    func feed(after: Int64, limit: Int) throws -> [StreamEvent] {
        let names = journalFiles()
        var found: [StreamEvent] = []
        for name in names {
            found += try read(name).lazy.filter { $0.sequence > after }.prefix(limit)
        }
        return Array(found.sorted { $0.sequence < $1.sequence }.prefix(limit))
    }

    func prune(before cutoff: Int64) throws {
        try withSequenceLock { _ in
            let names = journalFiles()
            for name in names {
                let events = try read(name)
                let kept = events.filter { $0.at >= cutoff }
                guard kept.count < events.count else { continue }
                if kept.isEmpty {
                    if unlink(directory + "/" + name) != 0 && errno != ENOENT { throw FileIO.failure("remove the journal of a stream") }
                } else {
                    let bytes = kept.flatMap { $0.jsonValue.serialized() + [UInt8(ascii: "\n")] }
                    try FileIO.writeAtomically(bytes, to: directory + "/" + name, directory: directory)
                }
            }
            try FileIO.syncDirectory(directory)
        }
    }

    func latestSequence() throws -> Int64 {
        try withSequenceLock { try FileEventJournal.readCounter($0) }
    }

    /// `.cursor-<name>.json`: `{"version", "value"}`, replaced whole under the sequence lock.
    func cursor(_ name: String) throws -> StoredCursor? {
        guard let bytes = try FileIO.read(cursorPath(name)) else { return nil }
        guard case .object(let object)? = try? JSONValue.parse(bytes), case .int(let version)? = object["version"], let value = object["value"] else {
            throw ServiceError.internal("the journal cursor file \(cursorPath(name)) is damaged")
        }
        return StoredCursor(value: value, version: Int(version))
    }

    func storeCursor(_ name: String, value: JSONValue, replacing version: Int?) throws -> Bool {
        try withSequenceLock { _ in
            guard try cursor(name)?.version == version else { return false }
            let document: JSONValue = ["version": .int(Int64((version ?? 0) + 1)), "value": value]
            try FileIO.writeAtomically(document.serialized(), to: cursorPath(name), directory: directory)
            return true
        }
    }

    private func cursorPath(_ name: String) -> String { directory + "/.cursor-" + name + ".json" }

    private func pruneIfDue() {
        let current = now()
        if pruning.claim(now: current) { try? prune(before: current - retention.components.seconds * 1000) }
    }

    /// The events of one file, reading only what was appended since the last read.
    private func read(_ name: String) throws -> [StreamEvent] {
        let path = directory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw FileIO.failure("open the journal of a stream")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw FileIO.failure("stat the journal of a stream") }
        let inode = UInt64(status.st_ino)
        let size = Int(status.st_size)
        var file = parsed.withLock { $0[name] }.flatMap { $0.inode == inode && $0.offset <= size ? $0 : nil } ?? ParsedFile(inode: inode, offset: 0, events: [])
        guard size > file.offset else { return file.events }
        var bytes = [UInt8](repeating: 0, count: size - file.offset)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(file.offset)) }
        guard count >= 0 else { throw FileIO.failure("read the journal of a stream") }
        // Complete lines only: a line still being written (or cut by a crash) is read next time.
        guard let lastNewline = bytes[0..<count].lastIndex(of: UInt8(ascii: "\n")) else { return file.events }
        for line in bytes[0..<lastNewline].split(separator: UInt8(ascii: "\n")) {
            if let value = try? JSONValue.parse(line), let event = StreamEvent(jsonValue: value) { file.events.append(event) }
        }
        file.offset += lastNewline + 1
        let done = file
        parsed.withLock { $0[name] = done }
        return file.events
    }

    private func appendLine(_ line: [UInt8], to path: String) throws {
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileIO.failure("open the journal of a stream") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw FileIO.failure("stat the journal of a stream") }
        var bytes = line + [UInt8(ascii: "\n")]
        if status.st_size > 0 {
            // A line a crash cut short is closed first, so it cannot swallow this one.
            var last: UInt8 = 0
            if pread(fd, &last, 1, off_t(status.st_size - 1)) == 1 && last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw FileIO.failure("append to the journal of a stream") }
    }

    private func withSequenceLock<T>(_ body: (Int32) throws -> T) throws -> T {
        let fd = open(directory + "/.sequence", O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileIO.failure("open the event sequence") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FileIO.failure("lock the event sequence") }
        }
        return try body(fd)
    }

    private static func readCounter(_ fd: Int32) throws -> Int64 {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw FileIO.failure("read the event sequence") }
        let text = String(decoding: bytes[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return 0 }
        guard let value = Int64(text) else { throw ServiceError.internal("the event sequence file \(".sequence") is damaged") }
        return value
    }

    private static func writeCounter(_ value: Int64, to fd: Int32) throws {
        let bytes = Array("\(value)\n".utf8)
        // Same length or longer each time (numbers only grow), so no truncate is needed.
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count, fsync(fd) == 0 else { throw FileIO.failure("store the event sequence") }
    }

    /// The streams' journal files (the sequence file and temporary files start with a dot).
    private func journalFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }
    }

    private func fileName(of streamId: String) -> String { streamId + ".jsonl" }
    private func path(of streamId: String) -> String { directory + "/" + fileName(of: streamId) }
}
