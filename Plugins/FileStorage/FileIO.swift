import Foundation
import LivestreamCore

/// Small POSIX file operations with the durability the store needs.
enum FileIO {
    /// The whole file, or nil if it does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("open \(lastComponent(path))")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw failure("stat \(lastComponent(path))") }
        var bytes: [UInt8] = []
        var capacity = max(Int(status.st_size), 0) + 1
        while true {
            // Read into uninitialised capacity: no zero-filled scratch buffer per call.
            var readCount = 0
            var chunk = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                readCount = Foundation.read(fd, buffer.baseAddress, capacity)
                initialized = max(readCount, 0)
            }
            if readCount < 0 {
                if errno == EINTR { continue }
                throw failure("read \(lastComponent(path))")
            }
            if readCount == 0 { return bytes }
            if bytes.isEmpty { swap(&bytes, &chunk) } else { bytes.append(contentsOf: chunk) }
            capacity = 16384
        }
    }

    /// Removes the temporary files of writes that never finished (the process was killed
    /// between create and rename), once older than `age`: a younger one may be another
    /// process's write in progress.
    /// - Returns: the names removed.
    @discardableResult
    static func sweepTemporaryFiles(in directory: String, olderThan age: TimeInterval = 600, now: Date = Date()) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".tmp-") {
            let path = directory + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                now.timeIntervalSince(modified) > age, unlink(path) == 0
            else { continue }
            removed.append(name)
        }
        return removed
    }

    /// Temp file in the same directory, fsync, rename over `path`, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let temporary = directory + "/.tmp-" + Identifier.secret(bytes: 8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure("create a temporary file") }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let count = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += count
            }
            return fsync(fd) == 0
        }
        let error = failure("write \(lastComponent(path))")
        close(fd)
        guard ok else {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let renameError = failure("replace \(lastComponent(path))")
            unlink(temporary)
            throw renameError
        }
        try syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open the storage directory") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("sync the storage directory") }
    }

    /// The error for the last failed call: 507 for a full disk, else 500; names the operation and errno (paths are ours, never secrets).
    static func failure(_ operation: String) -> ServiceError {
        ServiceError.fileOperation("storage: cannot \(operation)", errno: errno)
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
