import FileArchive
import Foundation
import LivestreamCore
import Testing

struct FileArchiveStoreTests {
    let directory = NSTemporaryDirectory() + "archive-" + Identifier.make()

    @Test func sessionRootsAreDatedFoldersOrConfinedPaths() throws {
        let archive = try FileArchiveStore(directory: directory)
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1_732_500_000, requestedPath: nil)
        #expect(root == "file://\(archive.directory)/2024/11/25/abc-1732500000/")
        #expect(FileManager.default.fileExists(atPath: String(root.dropFirst(7))))
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "events/x/") == "file://\(archive.directory)/events/x/")
        #expect { try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "../x") } throws: { ($0 as? ServiceError)?.code == "invalid_path" }
        #expect(throws: ServiceError.self) { try archive.listSegments(root: "file:///etc/") }
    }

    @Test func sessionsStartedInTheSameSecondGetTheirOwnFolders() throws {
        let archive = try FileArchiveStore(directory: directory)
        let roots = try (0..<3).map { _ in try archive.sessionRoot(streamId: "abc", startedAt: 1_732_500_000, requestedPath: nil) }
        #expect(roots == ["", "-2", "-3"].map { "file://\(archive.directory)/2024/11/25/abc-1732500000\($0)/" })
        #expect(roots.allSatisfy { FileManager.default.fileExists(atPath: String($0.dropFirst(7))) })
    }

    @Test func aFolderNameOverTheLimitIs400() throws {
        let archive = try FileArchiveStore(directory: directory)
        #expect { try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "ok/" + String(repeating: "a", count: 64)) } throws: {
            ($0 as? ServiceError)?.kind == .badRequest
        }
        // 63 code points of 4 bytes each (252 bytes) still fit a file system's 255-byte names.
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: String(repeating: "𝄞", count: 63) + "/").hasSuffix("𝄞/"))
    }

    @Test func aPathWithoutTrailingSlashIsAFileNameStem() throws {
        // The old deployment's meaning: `events/noslash` writes events/noslash_1..., and its playlists beside them.
        let archive = try FileArchiveStore(directory: directory)
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "events/noslash")
        #expect(root == "file://\(archive.directory)/events/noslash")
        let folder = archive.directory + "/events/"
        for name in ["noslash_1-x.000001.ts", "noslash_2-x.000001.ts", "other_1-x.000001.ts", "noslashy_1-x.000001.ts"] {
            FileManager.default.createFile(atPath: folder + name, contents: Data())
        }
        try "noslash_1-x.000001.ts,0,4.5\n".write(toFile: folder + "noslash_1-x.1.csv", atomically: true, encoding: .utf8)
        let segments = try archive.listSegments(root: root).sorted { $0.name < $1.name }
        #expect(segments.map(\.name) == ["noslash_1-x.000001.ts", "noslash_2-x.000001.ts"] && segments.map(\.pipeline) == [1, 2])
        #expect(segments[0].duration == 4.5)
        #expect(try archive.writeFile(root: root, fileName: "index_m_0.m3u8", contents: "#EXTM3U\n") == "events/noslashindex_m_0.m3u8")
        #expect { try archive.sessionRoot(streamId: "abc", startedAt: 2, requestedPath: "events/noslash") } throws: { ($0 as? ServiceError)?.code == "path_in_use" }
        #expect(try archive.sessionRoot(streamId: "abc", startedAt: 2, requestedPath: "events/fresh") == "file://\(archive.directory)/events/fresh")
    }

    @Test func aPathHoldingAnArchiveIsNotReused() throws {
        let archive = try FileArchiveStore(directory: directory)
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "reused")
        FileManager.default.createFile(atPath: String(root.dropFirst(7)) + "_1-x.000001.ts", contents: Data())
        #expect { try archive.sessionRoot(streamId: "abc", startedAt: 2, requestedPath: "reused") } throws: { ($0 as? ServiceError)?.code == "path_in_use" }
    }

    @Test func listsSegmentsWithLengthsFromTheArchiverLists() throws {
        let archive = try FileArchiveStore(directory: directory)
        let root = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: nil)
        let folder = String(root.dropFirst(7))
        for name in ["_1-x.000001.ts", "_1-x.000002.ts", "_2-x.000001.ts", "index_a_0.m3u8", "notes.txt"] {
            FileManager.default.createFile(atPath: folder + name, contents: Data())
        }
        try "_1-x.000001.ts,0.000000,4.080000\n/abs/_1-x.000002.ts,4.08,8.08\nbroken line\n".write(toFile: folder + "_1-x.1.csv", atomically: true, encoding: .utf8)
        let segments = try archive.listSegments(root: root).sorted { $0.name < $1.name }
        #expect(segments.map(\.name) == ["_1-x.000001.ts", "_1-x.000002.ts", "_2-x.000001.ts"])
        #expect(abs((segments[0].duration ?? 0) - 4.08) < 1e-9 && abs((segments[1].duration ?? 0) - 4.0) < 1e-9)
        #expect(segments[2].duration == nil)
        let key = try archive.writeFile(root: root, fileName: "index_m_0.m3u8", contents: "#EXTM3U\n")
        #expect(key == "1970/01/01/abc-1/index_m_0.m3u8")
        #expect(try String(contentsOfFile: archive.directory + "/" + key, encoding: .utf8) == "#EXTM3U\n")
    }

    @Test func aSessionIsListedWithSizesAndDeletedWithoutTouchingItsNeighbours() throws {
        let archive = try FileArchiveStore(directory: directory, url: "https://media.example/archive/")
        let stem = try archive.sessionRoot(streamId: "abc", startedAt: 1, requestedPath: "talks/key note")
        let dated = try archive.sessionRoot(streamId: "abc", startedAt: 2, requestedPath: nil)
        let folder = archive.directory + "/talks/"
        for (name, size) in [("key note_1-x.000001.ts", 188), ("key note_2-x.000001.ts", 376), ("key noteindex_a_0.m3u8", 7), ("other_1-x.000001.ts", 188)] {
            FileManager.default.createFile(atPath: folder + name, contents: Data(count: size))
        }
        FileManager.default.createFile(atPath: folder + ".tmp-key noteindex_b_0.m3u8", contents: Data())
        #expect(try archive.writeFile(root: stem, fileName: "index_a_0.json", contents: #"{"asked":null}"#) == "talks/key noteindex_a_0.json")
        FileManager.default.createFile(atPath: String(dated.dropFirst(7)) + "_1-y.000001.ts", contents: Data(count: 10))

        let files = try archive.listSession(root: stem)
        #expect(files.segments.sorted { $0.name < $1.name }.map(\.bytes) == [188, 376])
        #expect(files.others.sorted() == ["index_a_0.json", "index_a_0.m3u8"])
        #expect(try archive.readFile(root: stem, fileName: "index_a_0.json") == #"{"asked":null}"#)
        #expect(try archive.readFile(root: stem, fileName: "index_z_0.json") == nil)
        #expect(archive.playbackURL(root: stem, fileName: "index_a_0.m3u8") == "https://media.example/archive/talks/key%20noteindex_a_0.m3u8")
        #expect(throws: ServiceError.self) { try archive.readFile(root: stem, fileName: "../x") }

        #expect(try archive.deleteSession(root: stem) == 5, "2 segments, a playlist, its note and a cut-short write")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["other_1-x.000001.ts"])
        #expect(try archive.listSegments(root: dated).count == 1, "another session's folder is untouched")
        #expect(try archive.deleteSession(root: dated) == 1)
        #expect(!FileManager.default.fileExists(atPath: String(dated.dropFirst(7))), "a dated folder goes with its session")
        #expect(try archive.deleteSession(root: dated) == 0, "deleting again finds nothing")
    }
}
