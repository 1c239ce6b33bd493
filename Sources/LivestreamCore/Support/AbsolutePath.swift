import Foundation

/// A configured folder or file as one absolute, standardised path (no trailing slash), the same for
/// the plugin that uses it and the nginx snippets that serve it.
public enum AbsolutePath {
    /// `path` against the working directory when relative.
    public static func of(_ path: String) -> String {
        var result = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return (result as NSString).standardizingPath
    }
}
