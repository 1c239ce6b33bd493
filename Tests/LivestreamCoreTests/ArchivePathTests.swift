import LivestreamCore
import Testing

struct ArchivePathTests {
    @Test func datedFolderUsesTheUTCDate() {
        #expect(ArchivePath.dated(streamId: "abc", startedAt: 1_732_500_000) == "2024/11/25/abc-1732500000/")
        #expect(ArchivePath.dated(streamId: "abc", startedAt: 0) == "1970/01/01/abc-0/")
        #expect(ArchivePath.compactTimestamp(epochSeconds: 1_732_500_000) == "20241125T020000")
        #expect(ArchivePath.civilDate(epochSeconds: 951_782_400) == (2000, 2, 29))
    }

    // The old deployment took any path: spaces, dots and other letters stay allowed.
    @Test(arguments: ["events/2026/keynote", "a", "a/b/", "x.y_z~-1", "clip.v1", "my clip/é", "a+b(1)"])
    func acceptsConfinedPaths(_ path: String) throws {
        #expect(!(try ArchivePath.relativeSegments(path)).isEmpty)
    }

    @Test(arguments: [
        "", "/abs", "a/../b", "..", "a/./b", "a//b", "a\u{0}b", "a\nb", "a\u{85}b", "a\\b", "a/%2e%2e", "a%06d", String(repeating: "a/", count: 17),
        String(repeating: "x", count: 64), String(repeating: "é", count: 64),
    ])
    func rejectsEscapes(_ path: String) {
        #expect(throws: ServiceError.self) { try ArchivePath.relativeSegments(path) }
    }

    @Test func parsesSegmentNames() {
        #expect(ArchiveSegment(fileName: "_1-20261125T101010.000003.ts") == ArchiveSegment(name: "_1-20261125T101010.000003.ts", pipeline: 1, counter: 3, duration: nil))
        #expect(ArchiveSegment(fileName: "_2.000000.ts")?.pipeline == 2)
        for bad in ["_3-x.000001.ts", "_1-x.00001.ts", "_1-x.000001.m3u8", "x_1.000001.ts", "a/_1.000001.ts", "_1-x.00000a.ts"] {
            #expect(ArchiveSegment(fileName: bad) == nil, "\(bad)")
        }
    }

    @Test func constantTimeEqualsComparesWholeStrings() {
        #expect(constantTimeEquals("secret", "secret"))
        #expect(!constantTimeEquals("secret", "secreT"))
        #expect(!constantTimeEquals("secret", "secret1"))
        #expect(!constantTimeEquals("", "x"))
        #expect(Identifier.isValid(Identifier.make()))
        #expect(!Identifier.isValid("0123456789ABCDEF0123456789abcdef"))
    }
}
