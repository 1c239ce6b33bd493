/// Archive folder names: the dated default and the rules for a client's `path`.
public enum ArchivePath {
    /// A root's folder (with its trailing `/`) and the file-name stem after it (`""` for a folder root).
    public static func split(root: String) -> (folder: String, stem: String) {
        guard let slash = root.lastIndex(of: "/") else { return ("", root) }
        return (String(root[...slash]), String(root[root.index(after: slash)...]))
    }

    /// `YYYY/MM/DD/<id>-<epoch>/` (UTC date of the start).
    public static func dated(streamId: String, startedAt: Int64) -> String {
        let (year, month, day) = civilDate(epochSeconds: startedAt)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)/\(two(month))/\(two(day))/\(streamId)-\(startedAt)/"
    }

    /// The folders of a client-given relative path, checked for what is unsafe only (the
    /// old deployment took any path): 1-16 folders, each of at most 63 characters (a file
    /// system holds 255 bytes: 63 code points of any size), none empty, `.` or `..`; no
    /// leading `/`; no control characters, `\` (a folder separator elsewhere) or `%` (the
    /// archiver's ffmpeg would expand it in file names). Spaces, dots and any other letters
    /// are fine. Counted in code points, as the OpenAPI document's pattern counts them.
    /// A client's relative path as a root below `base` (which ends with `/`): a folder root when the
    /// path ends with `/`, else the last part is a file-name stem (the old deployment's meaning).
    public static func root(base: String, path: String) throws(ServiceError) -> String {
        let folders = try relativeSegments(path)
        return base + folders.joined(separator: "/") + (path.hasSuffix("/") ? "/" : "")
    }

    public static func relativeSegments(_ path: String) throws(ServiceError) -> [String] {
        guard !path.hasPrefix("/") else { throw .badRequest("path must be relative to the archive root", code: "invalid_path") }
        let folders = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let trimmed = folders.last == "" ? Array(folders.dropLast()) : folders
        guard (1...16).contains(trimmed.count) else { throw .badRequest("path must have 1 to 16 folders", code: "invalid_path") }
        for folder in trimmed {
            guard !folder.isEmpty, folder != ".", folder != ".." else {
                throw .badRequest("path must not contain empty, '.' or '..' folders", code: "invalid_path")
            }
            guard folder.unicodeScalars.count <= 63 else { throw .badRequest("path folders must be at most 63 characters long", code: "invalid_path") }
            guard !folder.unicodeScalars.contains(where: isUnsafe) else {
                throw .badRequest("path must not contain control characters, '\\' or '%'", code: "invalid_path")
            }
        }
        return trimmed
    }

    /// A file name written or read beside a session's segments: one name, no folder.
    public static func checkFileName(_ name: String) throws(ServiceError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..",
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw ServiceError.internal("archive: \(name.debugDescription) is no file name")
        }
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\\" || scalar == "%"
    }

    /// UTC calendar date of an epoch second (proleptic Gregorian; H. Hinnant's days_from_civil inverse).
    public static func civilDate(epochSeconds: Int64) -> (year: Int, month: Int, day: Int) {
        let days = Int(epochSeconds >= 0 ? epochSeconds / 86400 : (epochSeconds - 86399) / 86400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYYMMDDTHHMMSS` in UTC, as used in segment name modifiers.
    public static func compactTimestamp(epochSeconds: Int64) -> String {
        let (year, month, day) = civilDate(epochSeconds: epochSeconds)
        let secondOfDay = Int(((epochSeconds % 86400) + 86400) % 86400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))\(two(secondOfDay % 60))"
    }
}
