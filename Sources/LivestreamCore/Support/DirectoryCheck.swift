#if canImport(Glibc)
import Glibc
#endif

/// What `check-config` can say about a directory a plugin would create or write, without creating it.
public enum DirectoryCheck {
    /// nil when `path` is a writable directory, or could be created (its nearest existing ancestor
    /// is a writable directory); otherwise what is wrong.
    public static func problem(_ path: String, what: String) -> String? {
        var candidate = path
        while true {
            var info = stat()
            if stat(candidate, &info) == 0 {
                guard (info.st_mode & S_IFMT) == S_IFDIR else { return "\(what) \(path): \(candidate) is not a directory" }
                guard access(candidate, W_OK | X_OK) == 0 else {
                    return candidate == path ? "\(what) \(path) is not writable" : "\(what) \(path) cannot be created: \(candidate) is not writable"
                }
                return nil
            }
            guard let slash = candidate.lastIndex(of: "/"), candidate != "/" else { return nil }  // relative: the working directory decides
            candidate = slash == candidate.startIndex ? "/" : String(candidate[..<slash])
        }
    }
}
