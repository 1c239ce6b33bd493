import Foundation
import HLSSplitter
import LivestreamCore
import Testing

struct HLSArchiveSplitterTests {
    let splitter = HLSArchiveSplitter()

    func segment(_ pipeline: Int, _ counter: Int, _ duration: Double? = 10) -> ArchiveSegment {
        ArchiveSegment(name: "_\(pipeline)-x.\(String(format: "%06d", counter)).ts", pipeline: pipeline, counter: counter, duration: duration)
    }

    /// The segment names a playlist lists, in order.
    func names(_ playlist: String?) -> [String] {
        (playlist ?? "").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    func split(_ segments: [ArchiveSegment], _ ranges: [(Double, Double)], nominal: Int = 10) -> [String] {
        clips(segments, ranges, nominal: nominal).map(\.playlist)
    }

    func clips(_ segments: [ArchiveSegment], _ ranges: [(Double, Double)], nominal: Int = 10) -> [ClipPlan] {
        splitter.clips(segments: segments, nominalSegmentLength: nominal, ranges: ranges.map { TimeRange(start: $0.0, end: $0.1) })
    }

    func range(_ start: Double, _ end: Double) -> TimeRange { TimeRange(start: start, end: end) }

    @Test func choosesSegmentsThatOverlapTheRangeExactly() {
        let segments = (0..<5).map { segment(1, $0) }  // [0,10) [10,20) ... [40,50)
        let result = split(segments, [(0, 10), (10, 20), (5, 15), (9.999, 10.001), (10, 10.5), (45, 100), (50, 60)])
        #expect(names(result[0]) == ["_1-x.000000.ts"], "a range ending on a boundary excludes the next segment")
        #expect(names(result[1]) == ["_1-x.000001.ts"], "a range starting on a boundary excludes the previous segment")
        #expect(names(result[2]) == ["_1-x.000000.ts", "_1-x.000001.ts"])
        #expect(names(result[3]) == ["_1-x.000000.ts", "_1-x.000001.ts"])
        #expect(names(result[4]) == ["_1-x.000001.ts"])
        #expect(names(result[5]) == ["_1-x.000004.ts"])
        #expect(names(result[6]) == [] && result[6].hasSuffix("#EXT-X-ENDLIST\n"), "a range after the last segment gets an empty playlist")
    }

    @Test func placesSegmentsByRealDurationsAndTheFirstCounterPresent() {
        // MediaLive starts at 000000, the local archiver at 000001; the last segment is short.
        let segments = [segment(1, 7, 4.08), segment(1, 8, 4.0), segment(1, 9, 2.5)]
        let result = split(segments, [(0, 4.08), (8.08, 9), (4.1, 4.2)], nominal: 4)
        #expect(names(result[0]) == ["_1-x.000007.ts"])
        #expect(names(result[1]) == ["_1-x.000009.ts"])
        #expect(names(result[2]) == ["_1-x.000008.ts"])
    }

    @Test func writesAValidVODPlaylist() throws {
        let segments = [segment(1, 1, 4.08), segment(1, 2, 4.0), segment(1, 3, 3.2)]
        let playlist = try #require(split(segments, [(0, 100)], nominal: 4)[0])
        #expect(playlist == """
            #EXTM3U
            #EXT-X-VERSION:3
            #EXT-X-PLAYLIST-TYPE:VOD
            #EXT-X-TARGETDURATION:5
            #EXT-X-MEDIA-SEQUENCE:0
            #EXTINF:4.080,
            _1-x.000001.ts
            #EXTINF:4.000,
            _1-x.000002.ts
            #EXTINF:3.200,
            _1-x.000003.ts
            #EXT-X-ENDLIST

            """)
    }

    @Test func targetDurationIsTheCeilingOfTheLongestListedSegment() throws {
        let exact = split([segment(1, 0, 6.0), segment(1, 1, 5.0)], [(0, 11)])[0]
        #expect(exact.contains("#EXT-X-TARGETDURATION:6\n"))
        let over = split([segment(1, 0, 6.0005), segment(1, 1, 6.002)], [(0, 12)])[0]
        #expect(over.contains("#EXT-X-TARGETDURATION:7\n") && over.contains("#EXTINF:6.002,"))
        let tiny = split([segment(1, 0, 0.2)], [(0, 1)])[0]
        #expect(tiny.contains("#EXT-X-TARGETDURATION:1\n"))
    }

    @Test func usesOnePipelineAndFillsItsGapsFromTheOther() throws {
        // Pipeline 1 lacks counter 2; pipeline 2 lacks counter 0.
        let segments = [segment(1, 0), segment(1, 1), segment(1, 3), segment(2, 1), segment(2, 2), segment(2, 3)]
        let playlist = try #require(split(segments, [(0, 40)])[0])
        #expect(names(playlist) == ["_1-x.000000.ts", "_1-x.000001.ts", "_2-x.000002.ts", "_1-x.000003.ts"])
        #expect(playlist.components(separatedBy: "#EXT-X-DISCONTINUITY").count == 3, "a switch of pipeline is marked both ways")
        let clip = clips(segments, [(0, 40)])[0]
        #expect(clip.pipeline == 1 && clip.achieved == range(0, 40) && clip.filled == [range(20, 30)] && clip.gaps == [])
    }

    @Test func prefersThePipelineHoldingMoreOfTheRange() {
        let segments = [segment(1, 0), segment(2, 0), segment(2, 1), segment(2, 2)]
        #expect(names(split(segments, [(0, 30)])[0]) == ["_2-x.000000.ts", "_2-x.000001.ts", "_2-x.000002.ts"])
        #expect(names(split(segments, [(0, 10)])[0]) == ["_1-x.000000.ts"], "a tie goes to pipeline 1")
    }

    @Test func aCounterMissingEverywhereKeepsTimeAndMarksADiscontinuity() throws {
        let segments = [segment(1, 0), segment(1, 2)]  // 1 lost: [0,10) gap [20,30)
        let result = split(segments, [(10, 20), (0, 30)])
        #expect(names(result[0]) == [])
        let playlist = result[1]
        #expect(names(playlist) == ["_1-x.000000.ts", "_1-x.000002.ts"])
        #expect(playlist.contains("#EXT-X-DISCONTINUITY\n#EXTINF:10.000,\n_1-x.000002.ts"))
        let clip = clips(segments, [(5, 25)])[0]
        #expect(clip.achieved == range(0, 30) && clip.gaps == [range(10, 20)] && clip.filled == [])
        #expect(clips(segments, [(10, 20)])[0].achieved == nil, "a range inside a hole achieves nothing")
    }

    @Test func coverageIsWhatTheClipsAreCutFrom() {
        // Pipeline 1: counters 0, 1, 4 (3.5 s long); pipeline 2: 1, 2; counter 3 lost everywhere.
        let segments = [segment(1, 0), segment(1, 1), segment(1, 4, 3.5), segment(2, 1), segment(2, 2)]
        let coverage = splitter.coverage(segments: segments, nominalSegmentLength: 10)
        #expect(coverage.duration == 43.5)
        #expect(coverage.covered[1] == [range(0, 20), range(40, 43.5)])
        #expect(coverage.covered[2] == [range(10, 30)])
        #expect(coverage.gaps == [range(30, 40)])
        let whole = clips(segments, [(0, coverage.duration)])[0]
        #expect(whole.achieved == range(0, 43.5) && whole.gaps == coverage.gaps && whole.filled == [range(20, 30)])
        #expect(splitter.coverage(segments: [], nominalSegmentLength: 10) == SessionCoverage(duration: 0, covered: [:], gaps: []))
    }

    @Test func unknownDurationsFallBackToTheOtherPipelineThenTheNominalLength() {
        let segments = [segment(1, 0, nil), segment(2, 0, 3.0), segment(1, 1, nil)]
        // Slot 0 lasts 3 s (pipeline 2 knows), slot 1 the nominal 10 s: [3, 13).
        let result = split(segments, [(2.9, 3.1), (12.9, 13.1)])
        #expect(names(result[0]) == ["_1-x.000000.ts", "_1-x.000001.ts"])
        #expect(names(result[1]) == ["_1-x.000001.ts"])
    }

    @Test func emptyRangesGiveValidPlaylistsWithoutSegments() {
        let empty = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-ENDLIST\n"
        #expect(split([], [(0, 10), (5, 6)]) == [empty, empty])
    }
}
