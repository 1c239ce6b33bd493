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
/// documents are reported and skipped by listings. Pending cleanups live in `.cleanups/`.
public final class FileStreamStore: StreamStore {
    /// The document format tag; files without it are not ours.
    static let format = "livestreamd.stream/1"

    public let directory: String
    public let cleanups: any CleanupJournal
    private let logger: Logger
    private let lastProblems = Mutex<[StoreProblem]>([])
    private let cache = RecordCache()
    /// Every record, as read at a directory stamp old enough to be trusted (see `FileStamp`).
    private let listing = ReadMostly<(stamp: FileStamp, records: [StreamRecord])?>(nil)

    /// Opens (and creates if needed) the store directory.
    public init(directory: String, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError("cannot create the storage directory \(directory): \(error.localizedDescription)")
        }
        guard access(directory, W_OK) == 0 else { throw ConfigurationError("the storage directory \(directory) is not writable") }
        cleanups = try FileCleanupJournal(storeDirectory: directory)
    }

    public var problems: [StoreProblem] { lastProblems.withLock { $0 } }

    public func get(id: String) throws -> StreamRecord? {
        let file = path(id)
        guard let stamp = FileStamp(file) else {
            cache.forget(id: id)
            return try FileIO.read(file).map { try decode($0, location: "\(id).json") }
        }
        if let cached = cache.record(id: id, stamp: stamp) { return cached }
        guard let bytes = try FileIO.read(file) else { return nil }
        let record = try decode(bytes, location: "\(id).json")
        cache.remember(record, stamp: stamp)
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
            return saved
        }
    }

    public func replace(_ record: StreamRecord) throws -> StreamRecord {
        try withWriteLock {
            let current = try currentVersion(record.id)
            guard current == record.version else { throw ServiceError.versionConflict(record.id) }
            var saved = record
            saved.version += 1
            try write(saved)
            return saved
        }
    }

    public func delete(_ record: StreamRecord) throws {
        try withWriteLock {
            let current = try currentVersion(record.id)
            guard current == record.version else { throw ServiceError.versionConflict(record.id) }
            guard unlink(path(record.id)) == 0 else { throw FileIO.failure("delete \(record.id).json") }
            cache.forget(id: record.id)
            try FileIO.syncDirectory(directory)
        }
    }

    public func list(limit: Int?, after token: String?) throws -> StreamPage {
        if let token, !Identifier.isValid(token) { throw ServiceError.badRequest("next_token is not valid") }
        let stamp = FileStamp(directory)
        var all: [StreamRecord]
        if let stamp, let cached = listing.read({ $0 }), cached.stamp == stamp {
            all = cached.records
        } else {
            all = try readAll()
            if let stamp, stamp.isSettled {
                listing.write { $0 = (stamp, all) }
            }
        }
        if let token { all = Array(all.drop { $0.id <= token }) }
        let revision = stamp.flatMap { stamp in listing.read { $0?.stamp == stamp ? stamp.description : nil } }
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
            guard Identifier.isValid(id) else {
                problems.append(StoreProblem(location: name, reason: "not a stream document name (<32 hex>.json)"))
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
            "record": record.apiObject,
            "media": .object(record.mediaState),
        ]
        try FileIO.writeAtomically(document.serialized(), to: path(record.id), directory: directory)
    }

    /// The stored version, or `streamNotFound`.
    private func currentVersion(_ id: String) throws -> Int {
        guard let bytes = try FileIO.read(path(id)) else { throw ServiceError.streamNotFound(id) }
        return try decode(bytes, location: "\(id).json").version
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
