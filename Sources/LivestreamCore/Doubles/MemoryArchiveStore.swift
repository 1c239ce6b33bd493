import Synchronization

/// The reference `ArchiveStore`: session folders as in-memory maps under `memory://archive/`,
/// played from `https://archive.example/`.
public final class MemoryArchiveStore: ArchiveStore {
    private static let base = "memory://archive/"
    private let files = Mutex<[String: [String: String]]>([:])
    private let segmentsByRoot = Mutex<[String: [ArchiveSegment]]>([:])

    public init() {}

    public func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String {
        if let requestedPath {
            let segments = try ArchivePath.relativeSegments(requestedPath)
            return Self.base + segments.joined(separator: "/") + "/"
        }
        return Self.base + ArchivePath.dated(streamId: streamId, startedAt: startedAt)
    }

    /// Puts segments into a session folder (what an encoder would do).
    public func addSegments(_ segments: [ArchiveSegment], root: String) {
        segmentsByRoot.withLock { $0[root, default: []].append(contentsOf: segments) }
    }

    public func listSession(root: String) throws -> SessionFiles {
        SessionFiles(segments: segmentsByRoot.withLock { $0[root] ?? [] }, others: files.withLock { ($0[root] ?? [:]).keys.sorted() })
    }

    public func writeFile(root: String, fileName: String, contents: String) throws -> String {
        try ArchivePath.checkFileName(fileName)
        files.withLock { $0[root, default: [:]][fileName] = contents }
        return try fileKey(root: root, fileName: fileName)
    }

    public func fileKey(root: String, fileName: String) throws -> String {
        String(root.dropFirst(Self.base.count)) + fileName
    }

    public func readFile(root: String, fileName: String) throws -> String? {
        files.withLock { $0[root]?[fileName] }
    }

    public func deleteSession(root: String) throws -> Int {
        let segments = segmentsByRoot.withLock { $0.removeValue(forKey: root)?.count ?? 0 }
        return segments + files.withLock { $0.removeValue(forKey: root)?.count ?? 0 }
    }

    /// One piece per cut, named `<baseName>_0.ts`, kept as a file of the session.
    public func cutSegment(root: String, segment: String, from: Double, to: Double, baseName: String) throws -> [ClipEntry] {
        let name = baseName + "_0.ts"
        files.withLock { $0[root, default: [:]][name] = "\(segment) [\(from), \(to))" }
        return [ClipEntry(uri: name, start: from, duration: to - from)]
    }

    public func playbackURL(root: String, fileName: String) -> String? {
        "https://archive.example/" + root.dropFirst(Self.base.count) + fileName
    }

    /// A written file (a clip's playlist or note), for assertions.
    public func playlist(root: String, fileName: String) -> String? {
        files.withLock { $0[root]?[fileName] }
    }
}
