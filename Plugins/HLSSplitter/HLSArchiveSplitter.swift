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

    public func clips(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [ClipPlan] {
        let timeline = SessionTimeline(segments: segments, nominalSegmentLength: nominalSegmentLength)
        return ranges.map { clip(timeline.overlapping($0), nominalSegmentLength: nominalSegmentLength) }
    }

    public func coverage(segments: [ArchiveSegment], nominalSegmentLength: Int) -> SessionCoverage {
        let timeline = SessionTimeline(segments: segments, nominalSegmentLength: nominalSegmentLength)
        var covered: [Int: [TimeRange]] = [:]
        for pipeline in [1, 2] {
            let ranges = TimeRange.merged(timeline.slots.filter { $0.segments[pipeline] != nil }.map(\.range))
            if !ranges.isEmpty { covered[pipeline] = ranges }
        }
        return SessionCoverage(duration: timeline.slots.last?.end ?? 0, covered: covered, gaps: SessionTimeline.holes(between: timeline.slots))
    }

    public func playlist(_ entries: [ClipEntry], nominalSegmentLength: Int) -> String {
        var body = ""
        var longest = entries.isEmpty ? Double(nominalSegmentLength) : 0.0
        for entry in entries {
            if entry.discontinuity { body += "#EXT-X-DISCONTINUITY\n" }
            // Durations are listed in milliseconds; the target duration is the ceiling of the longest listed value.
            let duration = (entry.duration * 1000).rounded() / 1000
            longest = max(longest, duration)
            body += "#EXTINF:" + String(format: "%.3f", duration) + ",\n" + entry.uri + "\n"
        }
        let target = Int(longest.rounded(.up))
        return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:\(max(1, target))\n#EXT-X-MEDIA-SEQUENCE:0\n"
            + body + "#EXT-X-ENDLIST\n"
    }

    private func clip(_ slots: [SessionTimeline.Slot], nominalSegmentLength: Int) -> ClipPlan {
        let onPrimary = slots.filter { $0.segments[1] != nil }.count
        let onBackup = slots.filter { $0.segments[2] != nil }.count
        let chosen = onBackup > onPrimary ? 2 : 1
        let other = 3 - chosen

        var entries: [ClipEntry] = []
        var previous: (counter: Int, pipeline: Int)?
        var filled: [TimeRange] = []
        for slot in slots {
            guard let segment = slot.segments[chosen] ?? slot.segments[other] else { continue }
            // A switch of pipeline or a hole in the counters.
            let discontinuity = previous.map { $0.counter + 1 != slot.counter || $0.pipeline != segment.pipeline } ?? false
            if segment.pipeline != chosen { filled.append(slot.range) }
            entries.append(ClipEntry(uri: segment.name, start: slot.start, duration: segment.duration ?? slot.duration, discontinuity: discontinuity))
            previous = (slot.counter, segment.pipeline)
        }
        let text = playlist(entries, nominalSegmentLength: nominalSegmentLength)
        guard let first = slots.first, let last = slots.last else { return ClipPlan(playlist: text, achieved: nil, pipeline: nil) }
        return ClipPlan(
            playlist: text, achieved: TimeRange(start: first.start, end: last.end), pipeline: chosen,
            filled: TimeRange.merged(filled), gaps: SessionTimeline.holes(between: slots), entries: entries)
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
