import Foundation
import LivestreamCore

/// A CDN double that counts calls.
struct PassThroughDistribution: LiveDistribution {
    func cdnViewerEndpoint(for viewerEndpoint: String) -> String { viewerEndpoint.replacingOccurrences(of: "media.test", with: "cdn.test") }
    func associate(_ record: StreamRecord) throws {}
    func dissociate(_ record: StreamRecord) throws {}
}

/// A splitter double: one line per overlapping segment name.
struct FixedSplitter: ArchiveSplitter {
    func playlists(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [String] {
        ranges.map { range in
            let names = segments.filter { Double($0.counter * nominalSegmentLength) < range.end && Double(($0.counter + 1) * nominalSegmentLength) > range.start }.map(\.name)
            return names.joined(separator: "\n")
        }
    }
}
