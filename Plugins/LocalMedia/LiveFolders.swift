import Foundation
import LivestreamCore

/// nginx-rtmp's live HLS folders of a stream (`<directory>/<public name>/`), as viewers see them.
///
/// nginx-rtmp leaves a finished stream's playlist as it was, without `#EXT-X-ENDLIST`,
/// so players keep polling it as live; and it never removes the folders.
struct LiveFolders: Sendable {
    /// nginx's `hls_path`; nil when livestreamd is not told where it is.
    let directory: String?

    /// Marks each pipeline's playlist ended, once nginx-rtmp has stopped writing it (at most `patience`).
    /// - Returns: what could not be done (a folder nginx-rtmp made that this user may not enter or change).
    func endPlaylists(of streamId: String, patience: Duration = .seconds(3)) -> [String] {
        var problems = unreachableFolders(of: streamId).map { "cannot end the live playlist in \($0): \(LiveFolders.notOurs)" }
        for playlist in playlists(of: streamId) {
            guard let settled = waitUntilSettled(playlist, patience: patience), !settled.contains("#EXT-X-ENDLIST") else { continue }
            let ended = settled + (settled.hasSuffix("\n") ? "" : "\n") + "#EXT-X-ENDLIST\n"
            // Replace, never append in place: a reader sees the old or the new playlist.
            let temporary = playlist + ".ended"
            if FileManager.default.createFile(atPath: temporary, contents: Data(ended.utf8)) {
                rename(temporary, playlist)
            } else {
                problems.append("cannot end the live playlist \(playlist): \(LiveFolders.notOurs)")
            }
        }
        return problems
    }

    /// Why a live folder can be out of reach: nginx-rtmp makes it (drwxr--r--) for nginx's user alone.
    static let notOurs = "nginx-rtmp made it for nginx's user alone (docs/FINDINGS.md)"

    /// Removes both pipelines' live folders.
    /// - Returns: what could not be removed.
    func remove(of streamId: String) -> [String] {
        [1, 2].compactMap { removeFolder(named: IngestKey.publicName(streamId: streamId, pipeline: $0)) }
    }

    /// The stream's live folders that exist but that this user may not enter.
    private func unreachableFolders(of streamId: String) -> [String] {
        guard let directory else { return [] }
        return [1, 2].map { directory + "/" + IngestKey.publicName(streamId: streamId, pipeline: $0) }
            .filter { FileManager.default.fileExists(atPath: $0) && access($0, X_OK | W_OK) != 0 }
    }

    /// Live folders of streams that are not started (or gone), untouched for `age`.
    func staleFolders(of records: [StreamRecord], olderThan age: Duration, now: Date = Date()) -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let started = Set(records.filter(\.started).map(\.id))
        return names.filter { name in
            // A folder this user cannot enter counts by its own time.
            guard let (streamId, _) = IngestKey.parsePublicName(name), !started.contains(streamId),
                let modified = FileTimes.newest([directory + "/" + name] + FileTimes.entries(of: directory + "/" + name))
            else { return false }
            return now.timeIntervalSince(modified) > Double(age.components.seconds)
        }
    }

    /// - Returns: why the folder could not be removed, nil when it is gone.
    func removeFolder(named name: String) -> String? {
        guard let directory, IngestKey.parsePublicName(name) != nil else { return nil }
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            try FileManager.default.removeItem(atPath: path)
            return nil
        } catch {
            return "cannot remove the live folder \(path): \(LiveFolders.notOurs)"
        }
    }

    private func playlists(of streamId: String) -> [String] {
        guard let directory else { return [] }
        return [1, 2].map { directory + "/" + IngestKey.publicName(streamId: streamId, pipeline: $0) + "/index.m3u8" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The playlist once it has not changed for half a second; nil if it keeps changing.
    private func waitUntilSettled(_ path: String, patience: Duration) -> String? {
        let deadline = ContinuousClock.now + patience
        var last = try? String(contentsOfFile: path, encoding: .utf8)
        while ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            let now = try? String(contentsOfFile: path, encoding: .utf8)
            if now == last { return now }
            last = now
        }
        return nil
    }
}
