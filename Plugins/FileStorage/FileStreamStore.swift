import Foundation
import LivestreamCore
import Logging
import Synchronization

/// Storage plugin `file`: one JSON document per stream in a directory.
///
/// Writes are atomic (temp file, fsync, rename, fsync of the directory) and
/// compare-and-set under an exclusive `flock` on `<directory>/.lock`, which
/// serialises writers across threads and processes. Readers take no lock: a rename
/// is atomic, so they see the old or the new document. Files that are not stream
/// documents are reported and skipped by listings. Pending cleanups live in `.cleanups/`, the event
/// journal in `.events/`.
public final class FileStreamStore: StreamStore {
    /// The document format tag; files without it are not ours.
    static let format = "livestreamd.stream/1"

    public let directory: String
    public let cleanups: any CleanupJournal
    public let events: (any EventJournal)?
    private let logger: Logger
    private let lastProblems = Mutex<[StoreProblem]>([])
    private let cache = RecordCache()
    /// True while the directory watch reports changes; otherwise reads compare file stamps.
    private let watched = WatchFlag()

    public func checkReady() throws {
        guard access(directory, W_OK | X_OK) == 0 else {
            throw ServiceError(.internal, code: "storage_unwritable", "the storage directory \(directory) is not writable")
        }
    }

    /// Opens (and creates if needed) the store directory.
    /// - Parameters:
    ///   - watchDirectory: validate cached reads by inotify (false: by file stamps, as without inotify).
    ///   - eventRetention: how long the event journal keeps events.
    public init(directory: String, logger: Logger, watchDirectory: Bool = true, eventRetention: Duration = .seconds(30 * 86400)) throws {
        self.directory = directory
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError("cannot create the storage directory \(directory): \(error.localizedDescription)")
        }
        guard access(directory, W_OK) == 0 else { throw ConfigurationError("the storage directory \(directory) is not writable") }
        let journal = try FileCleanupJournal(storeDirectory: directory)
        cleanups = journal
        let eventJournal = try FileEventJournal(storeDirectory: directory, retention: eventRetention)
        events = eventJournal
        for folder in [directory, journal.directory, eventJournal.directory] {
            let swept = FileIO.sweepTemporaryFiles(in: folder)
            if !swept.isEmpty {
                logger.notice("removed temporary files of unfinished writes", metadata: ["directory": "\(folder)", "count": "\(swept.count)"])
            }
        }
        let cache = self.cache
        let watched = self.watched
        let watch = !watchDirectory ? nil : DirectoryWatch(directory: directory) { change in
            switch change {
            case .file(let name):
                // Temporary files, the lock and the journal start with a dot.
                if name.hasSuffix(".json") && !name.hasPrefix(".") { cache.forget(id: String(name.dropLast(5))) }
            case .everything:
                cache.forgetAll()
            case .watchLost:
                watched.isOn.store(false, ordering: .releasing)
                cache.forgetAll()
                logger.warning("the storage directory is no longer watched; reads check file stamps from now on", metadata: ["directory": "\(directory)"])
            }
        }
        if watch != nil { watched.isOn.store(true, ordering: .releasing) }
    }

    /// Whether cached reads rely on the directory watch (else on file stamps).
    public var isWatched: Bool { watched.isOn.load(ordering: .acquiring) }

    public var problems: [StoreProblem] { lastProblems.withLock { $0 } }

    public func get(id: String) throws -> StreamRecord? {
        let file = path(id)
        var stamp: FileStamp?
        if !isWatched {
            guard let current = FileStamp(file) else {
                cache.forget(id: id)
                return try FileIO.read(file).map { try decode($0, location: "\(id).json") }
            }
            stamp = current
        }
        if let cached = cache.record(id: id, stamp: stamp) { return cached }
        let generation = cache.generation
        guard let bytes = try FileIO.read(file) else { return nil }
        let record = try decode(bytes, location: "\(id).json")
        cache.remember(record, stamp: stamp, generation: generation)
        return record
    }

    public func create(_ record: StreamRecord) throws -> StreamRecord {
        try withWriteLock {
            guard try FileIO.read(path(record.id)) == nil else {
                throw ServiceError(.conflict, code: "already_exists", "stream \(record.id) already exists")
            }
            var saved = record
            saved.version = 1
            try write(saved)
            cache.forget(id: saved.id)
            return saved
        }
    }

    public func replace(_ record: StreamRecord) throws -> StreamRecord {
        try withWriteLock {
            try expectVersion(of: record)
            var saved = record
            saved.version += 1
            defer { cache.forget(id: saved.id) }
            try write(saved)
            return saved
        }
    }

    public func delete(_ record: StreamRecord) throws {
        try withWriteLock {
            try expectVersion(of: record)
            defer { cache.forget(id: record.id) }
            guard unlink(path(record.id)) == 0 else { throw FileIO.failure("delete \(record.id).json") }
            try FileIO.syncDirectory(directory)
        }
    }

    public func list(limit: Int?, after token: String?) throws -> StreamPage {
        if let token, !Identifier.isStorableStreamId(token) { throw ServiceError.badRequest("next_token is not valid") }
        let stamp = isWatched ? nil : FileStamp(directory)
        var all: [StreamRecord]
        var revision: String?
        if let cached = cache.listing(stamp: stamp) {
            all = cached.records
            revision = Self.revision(stamp, cached.revision)
        } else {
            let generation = cache.generation
            all = try readAll()
            if cache.rememberListing(all, stamp: stamp, generation: generation) { revision = Self.revision(stamp, generation) }
        }
        if let token { all = Array(all.drop { $0.id <= token }) }
        guard let limit, all.count > limit else { return StreamPage(records: all, nextToken: nil, revision: revision) }
        let page = Array(all.prefix(limit))
        return StreamPage(records: page, nextToken: page.last?.id, revision: revision)
    }

    /// Reads every document, reporting (and skipping) what is not a stream record.
    private func readAll() throws -> [StreamRecord] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ServiceError.internal("cannot list the storage directory")
        }
        var problems: [StoreProblem] = []
        var ids: [String] = []
        for name in names where !name.hasPrefix(".") {
            let id = name.hasSuffix(".json") ? String(name.dropLast(5)) : ""
            guard Identifier.isStorableStreamId(id) else {
                problems.append(StoreProblem(location: name, reason: "not a stream document name (<id>.json)"))
                continue
            }
            ids.append(id)
        }
        var records: [StreamRecord] = []
        for id in ids.sorted() {
            do {
                if let record = try get(id: id) { records.append(record) }
            } catch {
                problems.append(StoreProblem(location: "\(id).json", reason: "\(error)"))
            }
        }
        for problem in problems {
            logger.warning("skipped a file in the storage directory", metadata: ["file": "\(problem.location)", "reason": "\(problem.reason)"])
        }
        lastProblems.withLock { $0 = problems }
        return records
    }

    // MARK: - Documents

    private func path(_ id: String) -> String { directory + "/" + id + ".json" }

    private func decode(_ bytes: [UInt8], location: String) throws -> StreamRecord {
        do {
            guard case .object(let document) = try JSONValue.parse(bytes, maxDepth: 128),
                document["format"] == .string(FileStreamStore.format),
                case .int(let version)? = document["version"],
                case .object(let fields)? = document["record"]
            else {
                throw ServiceError.internal("\(location) is not a livestreamd stream document")
            }
            let record = try StreamRecord(apiObject: fields, version: Int(version), mediaState: document["media"]?.objectValue ?? [:])
            guard location == "\(record.id).json" else { throw ServiceError.internal("\(location) holds stream \(record.id)") }
            return record
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError.internal("\(location) is corrupt: \(error)")
        }
    }

    private func write(_ record: StreamRecord) throws {
        let document: JSONValue = [
            "format": .string(FileStreamStore.format),
            "version": .int(Int64(record.version)),
            "record": record.storedObject,
            "media": .object(record.mediaState),
        ]
        try FileIO.writeAtomically(document.serialized(), to: path(record.id), directory: directory)
    }

    /// Throws `streamNotFound`, or `versionConflict` unless the stored version is the record's.
    private func expectVersion(of record: StreamRecord) throws {
        guard let bytes = try FileIO.read(path(record.id)) else { throw ServiceError.streamNotFound(record.id) }
        guard try decode(bytes, location: "\(record.id).json").version == record.version else {
            // The caller read a stale copy: the next read goes to the file.
            cache.forget(id: record.id)
            throw ServiceError.versionConflict(record.id)
        }
    }

    /// Names one state of the listing, for caches of its rendered form.
    private static func revision(_ stamp: FileStamp?, _ generation: UInt64) -> String {
        (stamp?.description ?? "watched") + "." + String(generation)
    }

    private func withWriteLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileIO.failure("open the storage lock file") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FileIO.failure("lock the storage directory") }
        }
        return try body()
    }
}

/// Whether the directory watch works, shared with its thread.
private final class WatchFlag: Sendable {
    let isOn = Atomic<Bool>(false)
}
