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
    func endPlaylists(of streamId: String, patience: Duration = .seconds(3)) {
        for playlist in playlists(of: streamId) {
            guard let settled = waitUntilSettled(playlist, patience: patience), !settled.contains("#EXT-X-ENDLIST") else { continue }
            let ended = settled + (settled.hasSuffix("\n") ? "" : "\n") + "#EXT-X-ENDLIST\n"
            // Replace, never append in place: a reader sees the old or the new playlist.
            let temporary = playlist + ".ended"
            if FileManager.default.createFile(atPath: temporary, contents: Data(ended.utf8)) {
                rename(temporary, playlist)
            }
        }
    }

    /// Removes both pipelines' live folders.
    func remove(of streamId: String) {
        for pipeline in [1, 2] { removeFolder(named: IngestKey.publicName(streamId: streamId, pipeline: pipeline)) }
    }

    /// Live folders of streams that are not started (or gone), untouched for `age`.
    func staleFolders(of records: [StreamRecord], olderThan age: Duration, now: Date = Date()) -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let started = Set(records.filter(\.started).map(\.id))
        return names.filter { name in
            guard let (streamId, _) = IngestKey.parsePublicName(name), !started.contains(streamId),
                let modified = FileTimes.newest([directory + "/" + name] + FileTimes.entries(of: directory + "/" + name))
            else { return false }
            return now.timeIntervalSince(modified) > Double(age.components.seconds)
        }
    }

    func removeFolder(named name: String) {
        guard let directory, IngestKey.parsePublicName(name) != nil else { return }
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
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
