import Foundation

/// A fresh folder under the system's temporary directory, for files a test writes.
public struct TemporaryFolder: Sendable {
    public let path: String

    public init(prefix: String = "test") {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    }

    /// Writes `text` to `name` in the folder (created on first use); returns the file's path.
    @discardableResult
    public func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}
