import LivestreamCore

/// A session's segments placed on its timeline, one slot per encoder counter.
///
/// Slots are ordered by counter (relative to the first one present); a slot lasts the
/// real duration of its segment (pipeline 1's when both are known) and a counter
/// missing from both pipelines advances time by the nominal length: a hole.
struct SessionTimeline {
    struct Slot {
        let counter: Int
        let start: Double
        let duration: Double
        /// Segments of this counter by pipeline (1, 2).
        let segments: [Int: ArchiveSegment]
        var end: Double { start + duration }
        var range: TimeRange { TimeRange(start: start, end: end) }
    }

    let slots: [Slot]

    init(segments: [ArchiveSegment], nominalSegmentLength: Int) {
        let nominal = Double(max(1, nominalSegmentLength))
        var byCounter: [Int: [Int: ArchiveSegment]] = [:]
        // A duplicate (same pipeline and counter) keeps the first name in sort order, so the choice is stable.
        for segment in segments.sorted(by: { $0.name < $1.name }) where byCounter[segment.counter]?[segment.pipeline] == nil {
            byCounter[segment.counter, default: [:]][segment.pipeline] = segment
        }
        var slots: [Slot] = []
        var time = 0.0
        var previous: Int?
        for counter in byCounter.keys.sorted() {
            if let previous, counter > previous + 1 { time += Double(counter - previous - 1) * nominal }
            let pair = byCounter[counter]!
            let duration = pair[1]?.duration ?? pair[2]?.duration ?? nominal
            slots.append(Slot(counter: counter, start: time, duration: duration, segments: pair))
            time += duration
            previous = counter
        }
        self.slots = slots
    }

    /// Slots that overlap `[start, end)` (a slot touching only an end point does not).
    func overlapping(_ range: TimeRange) -> [Slot] {
        slots.filter { $0.start < range.end && $0.end > range.start }
    }

    /// The holes between consecutive slots (missing counters), in order.
    static func holes(between slots: [Slot]) -> [TimeRange] {
        zip(slots, slots.dropFirst()).compactMap { earlier, later in
            later.counter > earlier.counter + 1 ? TimeRange(start: earlier.end, end: later.start) : nil
        }
    }
}
