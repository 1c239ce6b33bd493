import LivestreamCore

/// Where one pipeline of a started stream's current session is archived on disk.
///
/// The archiver writes `<folder>/<prefix>.<counter>.ts` (and `<prefix>.<first counter>.csv`),
/// where the prefix is the root's file-name stem, the pipeline and the session's start:
/// `[<stem>]_<pipeline>-<YYYYMMDDTHHMMSS>`.
struct SessionArchive {
    /// The session's archive root (`file://...`).
    let root: String
    /// The folder the files go in (ends with `/`).
    let folder: String
    /// `[<stem>]_<pipeline>-`: what every file of the pipeline in this folder starts with.
    let pipelinePrefix: String
    /// `pipelinePrefix` and the session's start.
    let prefix: String

    /// Nil unless the stream is started with a `file://` root for its current session.
    init?(of record: StreamRecord, pipeline: Int) {
        guard record.started, let session = record.currentSessionId, let root = record.archivesPath[session], root.hasPrefix("file://") else {
            return nil
        }
        let (folder, stem) = ArchivePath.split(root: String(root.dropFirst("file://".count)))
        self.root = root
        self.folder = folder
        pipelinePrefix = stem + "_\(pipeline)-"
        prefix = pipelinePrefix + ArchivePath.compactTimestamp(epochSeconds: Int64(record.lastStarted ?? "") ?? 0)
    }
}
