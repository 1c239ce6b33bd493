import Foundation
import LivestreamCore

/// Archive plugin `file`: session folders under a directory that nginx serves.
///
/// Roots are `file://<absolute directory>/<folders>/`, or `.../<folders>/<stem>` for a
/// client's path without a trailing `/` (file names start with the stem). Segment lengths come from the
/// segment lists (`*.csv`, `name,start,end` per line) the archiver writes beside the
/// segments; a segment missing from every list has an unknown length.
public struct FileArchiveStore: ArchiveStore {
    /// Absolute archive directory, without a trailing slash.
    public let directory: String
    /// Where nginx serves the directory, without a trailing slash.
    public let url: String
    /// Cuts exact clips' edges.
    let cutter: SegmentCutter

    /// - Parameters:
    ///   - url: the directory's base URL for players (`archive.file.url`).
    ///   - create: create the directory if needed; false: only check that it could be (`check-config`).
    ///   - ffmpeg, ffprobe: the tools exact clips are cut with (a name is looked up in `PATH`).
    public init(directory: String, url: String = FileArchivePlugin.defaultURL, ffmpeg: String = "ffmpeg", ffprobe: String = "ffprobe", create: Bool = true) throws {
        cutter = SegmentCutter(ffmpeg: ffmpeg, ffprobe: ffprobe)
        let absolute = AbsolutePath.of(directory)
        if create {
            do {
                try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
            } catch {
                throw ConfigurationError("cannot create the archive directory \(absolute): \(error.localizedDescription)")
            }
        } else if let problem = DirectoryCheck.problem(absolute, what: "the archive directory") {
            throw ConfigurationError(problem)
        }
        self.directory = absolute
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
    }

    public func checkReady() throws {
        guard access(directory, W_OK | X_OK) == 0 else {
            throw ServiceError(.internal, code: "archive_unwritable", "the archive directory \(directory) is not writable")
        }
    }

    public func sessionRoot(streamId: String, startedAt: Int64, requestedPath: String?) throws -> String {
        guard let requestedPath else { return try newDatedFolder(streamId: streamId, startedAt: startedAt) }
        let root = try ArchivePath.root(base: "file://" + directory + "/", path: requestedPath)
        let (folder, stem) = try self.folder(of: root)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: folder),
            existing.contains(where: { $0.hasPrefix(stem) && $0.hasSuffix(".ts") })
        {
            throw ServiceError(.conflict, code: "path_in_use", "path \(requestedPath) already holds an archive")
        }
        try makeFolders(String(folder.dropFirst(directory.count + 1)))
        return root
    }

    /// `YYYY/MM/DD/<id>-<epoch>/`, created here and now; a second session started in the
    /// same second gets `<id>-<epoch>-2/` (and so on), never the first one's folder.
    private func newDatedFolder(streamId: String, startedAt: Int64) throws -> String {
        let dated = ArchivePath.dated(streamId: streamId, startedAt: startedAt).dropLast()
        let parent = String(dated[..<dated.lastIndex(of: "/")!])
        let name = String(dated[dated.index(after: dated.lastIndex(of: "/")!)...])
        try makeFolders(parent)
        for attempt in 1...1000 {
            let relative = parent + "/" + (attempt == 1 ? name : "\(name)-\(attempt)")
            if mkdir(directory + "/" + relative, 0o775) == 0 { return "file://" + directory + "/" + relative + "/" }
            guard errno == EEXIST else { throw ServiceError.fileOperation("archive: cannot create the session folder \(relative)", errno: errno) }
        }
        throw ServiceError(.conflict, code: "path_in_use", "too many sessions of stream \(streamId) started within one second")
    }

    /// Creates `relative`'s folders below the archive directory (existing ones are fine).
    private func makeFolders(_ relative: String) throws {
        var made = directory
        for part in relative.split(separator: "/") {
            made += "/" + part
            guard mkdir(made, 0o775) == 0 || errno == EEXIST else {
                throw ServiceError.fileOperation("archive: cannot create the session folder \(relative)", errno: errno)
            }
        }
    }

    public func listSession(root: String) throws -> SessionFiles {
        let (folder, stem) = try self.folder(of: root)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return SessionFiles(segments: []) }
        var durations: [String: Double] = [:]
        var segments: [ArchiveSegment] = []
        var others: [String] = []
        for name in names where name.hasPrefix(stem) && SessionFileName.belongs(String(name.dropFirst(stem.count))) {
            if let segment = ArchiveSegment(fileName: name, stem: stem, bytes: size(of: folder + name)) {
                segments.append(segment)
                continue
            }
            others.append(String(name.dropFirst(stem.count)))
            guard name.hasSuffix(".csv"), let text = try? String(contentsOfFile: folder + name, encoding: .utf8) else { continue }
            for line in text.split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: ",")
                guard fields.count == 3, let start = Double(fields[1]), let end = Double(fields[2]), end > start else { continue }
                durations[String(fields[0]).split(separator: "/").last.map(String.init) ?? ""] = end - start
            }
        }
        for index in segments.indices { segments[index].duration = durations[segments[index].name] }
        return SessionFiles(segments: segments, others: others)
    }

    private func size(of path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    public func readFile(root: String, fileName: String) throws -> String? {
        let (folder, stem) = try self.folder(of: root)
        try ArchivePath.checkFileName(fileName)
        return try? String(contentsOfFile: folder + stem + fileName, encoding: .utf8)
    }

    public func deleteSession(root: String) throws -> Int {
        let (folder, stem) = try self.folder(of: root)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var removed = 0
        for name in names {
            // A write cut short leaves `.tmp-<name>` behind: it goes with the session too.
            let own = name.hasPrefix(".tmp-") ? String(name.dropFirst(5)) : name
            guard own.hasPrefix(stem), SessionFileName.belongs(String(own.dropFirst(stem.count))) else { continue }
            guard unlink(folder + name) == 0 || errno == ENOENT else {
                throw ServiceError.fileOperation("archive: cannot remove \(name) of the session", errno: errno)
            }
            removed += 1
        }
        // A dated folder holds one session: it goes once empty (another session's files keep a shared one).
        if stem.isEmpty, folder.count > directory.count + 1 { rmdir(folder) }
        return removed
    }

    public func cutSegment(root: String, segment: String, from: Double, to: Double, baseName: String) throws -> [ClipEntry] {
        let (folder, stem) = try self.folder(of: root)
        try ArchivePath.checkFileName(segment)
        try ArchivePath.checkFileName(baseName)
        guard FileManager.default.fileExists(atPath: folder + segment) else {
            throw ServiceError(.conflict, code: "segment_gone", "archive: segment \(segment) is no longer in the session folder")
        }
        return try cutter.cut(folder: folder, input: segment, from: from, to: to, baseName: stem + baseName)
    }

    public func playbackURL(root: String, fileName: String) -> String? {
        guard let relative = try? fileKey(root: root, fileName: fileName) else { return nil }
        return url + "/" + (relative.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? relative)
    }

    public func writeFile(root: String, fileName: String, contents: String) throws -> String {
        let (folder, stem) = try self.folder(of: root)
        try ArchivePath.checkFileName(fileName)
        let name = stem + fileName
        let temporary = folder + ".tmp-" + name
        let bytes = Array(contents.utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o664)
        var written = 0
        while fd >= 0, written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            written += count
        }
        let code = errno
        if fd >= 0 { close(fd) }
        guard fd >= 0, written == bytes.count, rename(temporary, folder + name) == 0 else {
            let failure = ServiceError.fileOperation("archive: cannot write \(name)", errno: fd >= 0 && written == bytes.count ? errno : code)
            unlink(temporary)
            throw failure
        }
        return try fileKey(root: root, fileName: fileName)
    }

    public func fileKey(root: String, fileName: String) throws -> String {
        let (folder, stem) = try self.folder(of: root)
        return String(folder.dropFirst(directory.count + 1)) + stem + fileName
    }

    /// The session folder (with trailing slash) of a root inside this archive, and the root's file-name stem.
    public func folder(of root: String) throws(ServiceError) -> (folder: String, stem: String) {
        let prefix = "file://" + directory + "/"
        guard root.hasPrefix(prefix) else {
            throw ServiceError.internal("archive root \(root) is not inside the file archive \(directory)")
        }
        _ = try ArchivePath.relativeSegments(String(root.dropFirst(prefix.count)))
        return ArchivePath.split(root: String(root.dropFirst("file://".count)))
    }
}

/// Registers archive plugin `file`.
public enum FileArchivePlugin {
    public static let defaultURL = "http://127.0.0.1:8080/archive"

    public static let options = [
        ConfigOption("archive.file.directory", .string, default: "var/archive", help: "directory holding session folders (served by nginx under /archive/)"),
        ConfigOption("archive.file.url", .string, default: defaultURL, help: "base URL players reach the archive directory at (the sessions API's playback URLs)"),
        ConfigOption("archive.file.ffmpeg", .string, default: "ffmpeg", help: "ffmpeg that cuts exact clips' edges (split with \"exact\": true); a name is looked up in PATH"),
        ConfigOption("archive.file.ffprobe", .string, default: "ffprobe", help: "ffprobe that finds the keyframes exact clips are cut around"),
    ]

    public static func register(in registry: inout PluginRegistry) {
        registry.registerArchive("file", summary: "session folders in a local directory served by nginx", options: options) { context in
            try FileArchiveStore(
                directory: try context.configuration.requiredString("archive.file.directory"),
                url: context.configuration.string("archive.file.url") ?? defaultURL, ffmpeg: context.configuration.string("archive.file.ffmpeg") ?? "ffmpeg",
                ffprobe: context.configuration.string("archive.file.ffprobe") ?? "ffprobe", create: !context.checkOnly)
        }
    }
}
