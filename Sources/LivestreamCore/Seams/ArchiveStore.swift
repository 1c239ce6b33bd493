/// Where session archives live (seam `archive`).
///
/// An archive root is a URL (`file:///...`, `s3://...`): a folder (ending with `/`), or,
/// as the old deployment took a client's `path` without a trailing `/`, a folder and a
/// file-name stem (`.../events/keynote` writes `keynote_1...` into `events/`). The encoder
/// writes segments as `<root>_1...` and `<root>_2...` (see `ArchiveSegment`), and
/// split writes clips beside them as `<root>index_...`: a session's files are the
/// `<root>_1...`, `<root>_2...` and `<root>index_...` ones (another session's stem in the
/// same folder never matches). `MemoryArchiveStore` is the test double.
public protocol ArchiveStore: Sendable {
    /// The archive root for a new session.
    /// - Parameters:
    ///   - streamId: the stream starting.
    ///   - startedAt: epoch seconds of the start.
    ///   - requestedPath: the client's `path`, confined to the archive root (bad ones throw 400).
    func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String

    /// Every file of the session under `root`, in any order: its segments (with sizes where the archive has them) and
    /// the names (after the root's stem) of the others.
    func listSession(root: String) throws -> SessionFiles

    /// Writes a file (a clip's playlist or its note) beside the session's segments.
    /// - Parameter fileName: the name after the root's stem.
    /// - Returns: the written key (`fileKey`), as reported in `indexes`.
    func writeFile(root: String, fileName: String, contents: String) throws -> String

    /// A session file's key as split reports it: the path below the archive directory (`file`), the object key (`s3`).
    func fileKey(root: String, fileName: String) throws -> String

    /// A file of the session (`fileName` after the root's stem); nil when there is none.
    func readFile(root: String, fileName: String) throws -> String?

    /// Removes every file of the session, and a folder root's folder once it is empty.
    /// - Returns: how many files were removed.
    func deleteSession(root: String) throws -> Int

    /// Where a player fetches a session's file (`fileName` after the stem; empty: the session's folder):
    /// an `http(s)` URL, or nil where the archive is not served over HTTP.
    func playbackURL(root: String, fileName: String) -> String?

    /// `GET /readyz`: throws when sessions could not be archived or split (folder unwritable, bucket unreachable).
    func checkReady() throws

    /// Writes `[from, to)` (seconds into the segment) of one segment as new files beside it, starting and ending at
    /// those instants: an exact clip's edge. The default answers 400 `exact_unsupported`.
    /// - Parameters:
    ///   - segment: the segment's file name (as `ArchiveSegment.name`).
    ///   - baseName: what the new files' names start with, after the root's stem.
    /// - Returns: the pieces in play order: file names beside the segment, `start` in seconds into the segment.
    func cutSegment(root: String, segment: String, from: Double, to: Double, baseName: String) throws -> [ClipEntry]
}

/// A session's files as the archive lists them.
public struct SessionFiles: Sendable, Equatable {
    public var segments: [ArchiveSegment]
    /// Names after the root's stem of everything else (playlists, clip notes, segment lists).
    public var others: [String]

    public init(segments: [ArchiveSegment], others: [String] = []) {
        self.segments = segments
        self.others = others
    }
}

extension ArchiveStore {
    public func checkReady() throws {}

    public func cutSegment(root: String, segment: String, from: Double, to: Double, baseName: String) throws -> [ClipEntry] {
        throw ServiceError.badRequest("exact clips need an archive that can cut segments (archive.backend file)", code: "exact_unsupported")
    }

    /// The session's segments, in any order.
    public func listSegments(root: String) throws -> [ArchiveSegment] {
        try listSession(root: root).segments
    }
}

/// Whether `name` (after a root's stem) is a file of that root's session: a segment or segment list of
/// a pipeline, or one of split's clips. Another stem sharing the folder never matches (see `ArchiveStore`).
public enum SessionFileName {
    public static func belongs(_ name: String) -> Bool {
        name.hasPrefix("_1") || name.hasPrefix("_2") || name.hasPrefix("index_")
    }
}
