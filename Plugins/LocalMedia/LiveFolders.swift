import Foundation
import LivestreamCore

/// nginx-rtmp's live HLS folders of a stream (`<hls_path>/<public name>/`), as viewers see them.
///
/// nginx-rtmp leaves a finished stream's playlist as it was, without `#EXT-X-ENDLIST`, so
/// players keep polling it as live. It makes the folders for nginx's user alone (drwxr--r--,
/// docs/FINDINGS.md), so livestreamd, running as its own user, reads, ends and removes them
/// through the snippets' internal server: `/live-folders/<name>/`, where nginx's WebDAV
/// `PUT` and `DELETE` act as nginx's user. The token travels in a header, because nginx's
/// error log prints request lines.
struct LiveFolders: Sendable {
    /// nginx's `hls_path`, listed for stale folders; nil when livestreamd is not told where it is.
    let directory: String?
    /// `http://127.0.0.1:PORT/live-folders` on the internal server.
    let url: String
    /// The internal token (nil: none configured).
    let token: String?
    /// One HTTP exchange with nginx (replaced in tests).
    var exchange: LoopbackHTTP.Exchange = { method, url, headers, body in
        try LoopbackHTTP.call(method, url, headers: headers, body: body)
    }

    /// The header that carries the internal token.
    static let tokenHeader = "X-Livestreamd-Token"

    /// Marks each pipeline's playlist ended, once nginx-rtmp has stopped writing it (at most `patience`).
    /// - Returns: what could not be done.
    func endPlaylists(of streamId: String, patience: Duration = .seconds(3)) -> [String] {
        [1, 2].compactMap { pipeline in
            let playlist = "\(url)/\(IngestKey.publicName(streamId: streamId, pipeline: pipeline))/index.m3u8"
            do {
                guard let settled = try waitUntilSettled(playlist, patience: patience), !settled.contains("#EXT-X-ENDLIST") else { return nil }
                let ended = settled + (settled.hasSuffix("\n") ? "" : "\n") + "#EXT-X-ENDLIST\n"
                // nginx writes a PUT to a temporary file and renames it: a reader sees the old or the new playlist.
                let answer = try call("PUT", playlist, body: ended)
                return [200, 201, 204].contains(answer.status) ? nil : "cannot end the live playlist \(playlist): nginx answered \(answer.status)"
            } catch {
                return "cannot end the live playlist \(playlist): \(error)"
            }
        }
    }

    /// Removes both pipelines' live folders.
    /// - Returns: what could not be removed.
    func remove(of streamId: String) -> [String] {
        [1, 2].compactMap { removeFolder(named: IngestKey.publicName(streamId: streamId, pipeline: $0)) }
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
        guard IngestKey.parsePublicName(name) != nil else { return nil }
        let folder = "\(url)/\(name)/"
        do {
            let answer = try call("DELETE", folder)
            return [200, 204, 404].contains(answer.status) ? nil : "cannot remove the live folder \(folder): nginx answered \(answer.status)"
        } catch {
            return "cannot remove the live folder \(folder): \(error)"
        }
    }

    private func call(_ method: String, _ target: String, body: String? = nil) throws -> (status: Int, body: String) {
        try exchange(method, target, token.map { [LiveFolders.tokenHeader: $0] } ?? [:], body)
    }

    /// The playlist once it has not changed for half a second; nil if there is none or it keeps changing.
    private func waitUntilSettled(_ playlist: String, patience: Duration) throws -> String? {
        func read() throws -> String? {
            let answer = try call("GET", playlist)
            guard answer.status != 404 else { return nil }
            guard answer.status == 200 else { throw LoopbackHTTP.Failure(description: "nginx answered \(answer.status)") }
            return answer.body
        }
        let deadline = ContinuousClock.now + patience
        var last = try read()
        while last != nil, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            let now = try read()
            if now == last { return now }
            last = now
        }
        return nil
    }
}
