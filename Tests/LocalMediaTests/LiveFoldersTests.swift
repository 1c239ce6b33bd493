@testable import LocalMedia
import Foundation
import LivestreamCore
import Testing

struct LiveFoldersTests {
    let root = NSTemporaryDirectory() + "live-folders-" + Identifier.make()

    func playlist(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        try text.write(toFile: root + "/" + name + "/index.m3u8", atomically: true, encoding: .utf8)
    }

    @Test func stopEndsEachPipelinesSettledPlaylistThroughNginx() throws {
        let stream = Identifier.make()
        try playlist(stream, "#EXTM3U\n#EXTINF:2.0,\n1.ts\n")
        try playlist(stream + "-backup", "#EXTM3U\n#EXTINF:2.0,\n1.ts\n#EXT-X-ENDLIST\n")
        let nginx = FakeLiveFolderServer(directory: root)
        #expect(nginx.folders().endPlaylists(of: stream, patience: .seconds(2)).isEmpty)
        let ended = try String(contentsOfFile: root + "/" + stream + "/index.m3u8", encoding: .utf8)
        #expect(ended == "#EXTM3U\n#EXTINF:2.0,\n1.ts\n#EXT-X-ENDLIST\n")
        // An ended playlist is not written again, and every call carries the token in its header.
        #expect(nginx.requests.filter { $0.target.hasPrefix("PUT") }.map(\.target) == ["PUT /live-folders/\(stream)/index.m3u8"])
        #expect(nginx.requests.allSatisfy { $0.token == nginx.token && !$0.target.contains(nginx.token) })
    }

    @Test func aRefusalIsReportedNotSwallowed() throws {
        let stream = Identifier.make()
        try playlist(stream, "#EXTM3U\n")
        var folders = FakeLiveFolderServer(directory: root).folders()
        folders.exchange = { method, _, _, _ in method == "GET" ? (200, "#EXTM3U\n") : (403, "") }
        #expect(folders.endPlaylists(of: stream, patience: .seconds(2)).first?.contains("nginx answered 403") == true)
        #expect(folders.remove(of: stream).count == 2)
    }

    @Test func deleteRemovesBothFoldersAndMissingOnesAreFine() throws {
        let stream = Identifier.make()
        try playlist(stream, "#EXTM3U\n")
        let nginx = FakeLiveFolderServer(directory: root)
        #expect(nginx.folders().remove(of: stream).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root + "/" + stream))
        #expect(nginx.requests.map(\.target) == ["DELETE /live-folders/\(stream)/", "DELETE /live-folders/\(stream)-backup/"])
    }
}
