import Foundation
import LivestreamCore

/// Splitter plugin `hls`: VOD playlists of the archive segments that overlap each range.
///
/// One pipeline per playlist: the one holding most of the range's segments (pipeline 1
/// on a tie); a segment it lacks is taken from the other pipeline. A switch of pipeline
/// or a hole in the counters is marked `#EXT-X-DISCONTINUITY`. A range no segment overlaps
/// gets a playlist without segments, as the old deployment wrote it.
public struct HLSArchiveSplitter: ArchiveSplitter {
    public init() {}

    public func playlists(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [String] {
        let timeline = SessionTimeline(segments: segments, nominalSegmentLength: nominalSegmentLength)
        return ranges.map { playlist(timeline.overlapping($0), nominalSegmentLength: nominalSegmentLength) }
    }

    private func playlist(_ slots: [SessionTimeline.Slot], nominalSegmentLength: Int) -> String {
        let onPrimary = slots.filter { $0.segments[1] != nil }.count
        let onBackup = slots.filter { $0.segments[2] != nil }.count
        let chosen = onBackup > onPrimary ? 2 : 1
        let other = 3 - chosen

        var body = ""
        var longest = slots.isEmpty ? Double(nominalSegmentLength) : 0.0
        var previous: (counter: Int, pipeline: Int)?
        for slot in slots {
            guard let segment = slot.segments[chosen] ?? slot.segments[other] else { continue }
            if let previous, previous.counter + 1 != slot.counter || previous.pipeline != segment.pipeline {
                body += "#EXT-X-DISCONTINUITY\n"
            }
            // Durations are listed in milliseconds; the target duration is the ceiling of the longest listed value.
            let duration = ((segment.duration ?? slot.duration) * 1000).rounded() / 1000
            longest = max(longest, duration)
            body += "#EXTINF:" + String(format: "%.3f", duration) + ",\n" + segment.name + "\n"
            previous = (slot.counter, segment.pipeline)
        }
        let target = Int(longest.rounded(.up))
        return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:\(max(1, target))\n#EXT-X-MEDIA-SEQUENCE:0\n"
            + body + "#EXT-X-ENDLIST\n"
    }
}

/// Registers splitter plugin `hls`.
public enum HLSSplitterPlugin {
    public static func register(in registry: inout PluginRegistry) {
        registry.registerSplitter("hls", summary: "VOD HLS playlists, one pipeline per playlist, gaps filled from the other") { _ in
            HLSArchiveSplitter()
        }
    }
}
