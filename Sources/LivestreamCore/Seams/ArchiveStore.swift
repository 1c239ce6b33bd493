/// Where session archives live (seam `archive`).
///
/// An archive root is a URL (`file:///...`, `s3://...`): a folder (ending with `/`), or,
/// as the old deployment took a client's `path` without a trailing `/`, a folder and a
/// file-name stem (`.../events/keynote` writes `keynote_1...` into `events/`). The encoder
/// writes segments as `<root>_1...` and `<root>_2...` (see `ArchiveSegment`), and
/// playlists are written beside them as `<root>index_...`. `MemoryArchiveStore` is the
/// test double.
public protocol ArchiveStore: Sendable {
    /// The archive root for a new session.
    /// - Parameters:
    ///   - streamId: the stream starting.
    ///   - startedAt: epoch seconds of the start.
    ///   - requestedPath: the client's `path`, confined to the archive root (bad ones throw 400).
    func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String

    /// Every segment of the session under `root`, in any order.
    func listSegments(root: String) throws -> [ArchiveSegment]

    /// Writes a playlist beside the session's segments.
    /// - Returns: the written key, as reported in `indexes`.
    func writePlaylist(root: String, fileName: String, contents: String) throws -> String

    /// `GET /readyz`: throws when sessions could not be archived or split (folder unwritable, bucket unreachable).
    func checkReady() throws
}

extension ArchiveStore {
    public func checkReady() throws {}
}
