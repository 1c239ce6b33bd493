import Synchronization

/// The reference `ArchiveStore`: session folders as in-memory maps under `memory://archive/`.
public final class MemoryArchiveStore: ArchiveStore {
    private let folders = Mutex<[String: [String: String]]>([:])
    private let segmentsByRoot = Mutex<[String: [ArchiveSegment]]>([:])

    public init() {}

    public func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String {
        if let requestedPath {
            let segments = try ArchivePath.relativeSegments(requestedPath)
            return "memory://archive/" + segments.joined(separator: "/") + "/"
        }
        return "memory://archive/" + ArchivePath.dated(streamId: streamId, startedAt: startedAt)
    }

    /// Puts segments into a session folder (what an encoder would do).
    public func addSegments(_ segments: [ArchiveSegment], root: String) {
        segmentsByRoot.withLock { $0[root, default: []].append(contentsOf: segments) }
    }

    public func listSegments(root: String) throws -> [ArchiveSegment] {
        segmentsByRoot.withLock { $0[root] ?? [] }
    }

    public func writePlaylist(root: String, fileName: String, contents: String) throws -> String {
        folders.withLock { $0[root, default: [:]][fileName] = contents }
        return String(root.dropFirst("memory://archive/".count)) + fileName
    }

    /// A written playlist, for assertions.
    public func playlist(root: String, fileName: String) -> String? {
        folders.withLock { $0[root]?[fileName] }
    }
}
