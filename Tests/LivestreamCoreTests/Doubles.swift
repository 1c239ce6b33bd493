import Foundation
import LivestreamCore

/// A CDN double that counts calls.
struct PassThroughDistribution: LiveDistribution {
    func cdnViewerEndpoint(for viewerEndpoint: String) -> String { viewerEndpoint.replacingOccurrences(of: "media.test", with: "cdn.test") }
    func associate(_ record: StreamRecord) throws {}
    func dissociate(_ record: StreamRecord) throws {}
}

/// A splitter double: segment `n` covers `[n L, (n + 1) L)`; a playlist is one line per overlapping segment name.
struct FixedSplitter: ArchiveSplitter {
    func clips(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [ClipPlan] {
        ranges.map { range in
            let chosen = segments.filter { slot($0, nominalSegmentLength).start < range.end && slot($0, nominalSegmentLength).end > range.start }
            let achieved = chosen.isEmpty ? nil : TimeRange(start: chosen.map { slot($0, nominalSegmentLength).start }.min()!, end: chosen.map { slot($0, nominalSegmentLength).end }.max()!)
            let entries = chosen.sorted { $0.counter < $1.counter }.map { ClipEntry(uri: $0.name, start: slot($0, nominalSegmentLength).start, duration: Double(nominalSegmentLength)) }
            return ClipPlan(playlist: playlist(entries, nominalSegmentLength: nominalSegmentLength), achieved: achieved, pipeline: chosen.first?.pipeline, entries: entries)
        }
    }

    func playlist(_ entries: [ClipEntry], nominalSegmentLength: Int) -> String {
        entries.map(\.uri).joined(separator: "\n")
    }

    func coverage(segments: [ArchiveSegment], nominalSegmentLength: Int) -> SessionCoverage {
        let covered = Dictionary(grouping: segments, by: \.pipeline).mapValues { TimeRange.merged($0.map { slot($0, nominalSegmentLength) }) }
        return SessionCoverage(duration: segments.map { slot($0, nominalSegmentLength).end }.max() ?? 0, covered: covered, gaps: [])
    }

    private func slot(_ segment: ArchiveSegment, _ length: Int) -> TimeRange {
        TimeRange(start: Double(segment.counter * length), end: Double((segment.counter + 1) * length))
    }
}
