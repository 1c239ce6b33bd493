import Foundation

/// File modification times, for judging whether nginx or an archiver still writes somewhere.
enum FileTimes {
    /// The newest modification among `paths` (those that cannot be read are skipped).
    static func newest(_ paths: [String]) -> Date? {
        paths.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }.max()
    }

    /// The names in `folder` (none if it cannot be listed), as full paths.
    static func entries(of folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).map { folder + "/" + $0 }
    }
}
