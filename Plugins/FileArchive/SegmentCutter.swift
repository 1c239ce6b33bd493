import Foundation
import LivestreamCore

/// Cuts part of an MPEG-TS segment at exact instants with ffmpeg, encoding as little as it can.
///
/// Only frames between a cut and the nearest keyframe inside the part are encoded again
/// (H.264 and AAC); from keyframe to keyframe the packets are copied as they are. So an
/// edge costs at most about two keyframe intervals of encoding, whatever the segment's length.
struct SegmentCutter {
    let ffmpeg: String
    let ffprobe: String
    /// Limit for one ffmpeg or ffprobe run.
    let timeout: Duration = .seconds(120)

    /// Writes `[from, to)` of `input` (seconds from its first packet) as files `<folder><baseName>_<n>.ts`.
    /// - Returns: the pieces in play order (file names; start in seconds into the segment).
    func cut(folder: String, input: String, from: Double, to: Double, baseName: String) throws -> [ClipEntry] {
        let probed = try probe(folder + input)
        let keyframes = probed.keyframes
        let from = max(0, from)
        guard to > from else { return [] }
        // Keyframes strictly inside the part: where copying may start, and the last one copying may run to.
        let inside = keyframes.filter { $0 > from + 0.0005 && $0 < to - 0.0005 }
        // Copying may start at `from` when a keyframe is there, or when no video comes before the segment's first
        // picture, itself a keyframe (the archiver cuts at keyframes; audio may lead by a few packets).
        let startsOnKeyframe = keyframes.contains { abs($0 - from) <= 0.0005 } || (probed.opensWithKeyframe && from <= (keyframes.first ?? 0) + 0.0005)
        var parts: [(from: Double, to: Double, copy: Bool)] = []
        let copyFrom = startsOnKeyframe ? from : inside.first
        if let copyFrom {
            if copyFrom > from { parts.append((from, copyFrom, false)) }
            // Copying may end at the part's end only when that is the segment's end; else at the last keyframe.
            let endsSegment = probed.duration <= to + 0.0005
            let copyTo = endsSegment ? to : (inside.last.map { max($0, copyFrom) } ?? copyFrom)
            if copyTo > copyFrom { parts.append((copyFrom, copyTo, true)) }
            if copyTo < to { parts.append((copyTo, to, false)) }
        } else {
            parts.append((from, to, false))
        }
        return try parts.enumerated().map { index, part in
            let name = baseName + "_\(index).ts"
            try write(folder: folder, input: input, output: name, from: part.from, length: part.to - part.from, copy: part.copy)
            return ClipEntry(uri: name, start: part.from, duration: part.to - part.from)
        }
    }

    /// What one ffprobe run tells of a segment: its length (infinite when unknown), the video keyframes' times
    /// from its first packet, and whether its first picture is a keyframe.
    private func probe(_ path: String) throws -> (duration: Double, keyframes: [Double], opensWithKeyframe: Bool) {
        let text = try run(ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags:format=start_time,duration", "-of", "json", path])
        let document = (try? JSONValue.parse(Array(text.utf8)))?.objectValue ?? [:]
        let format = document["format"]?.objectValue ?? [:]
        let packets: [(time: Double, key: Bool)] = (document["packets"]?.arrayValue ?? []).compactMap { packet in
            guard let fields = packet.objectValue, let time = fields["pts_time"]?.stringValue.flatMap(Double.init) else { return nil }
            return (time, fields["flags"]?.stringValue?.contains("K") ?? false)
        }
        guard let origin = format["start_time"]?.stringValue.flatMap(Double.init) ?? packets.map(\.time).min() else {
            throw ServiceError.internal("archive: ffprobe found no start time in \((path as NSString).lastPathComponent)")
        }
        let first = packets.min { $0.time < $1.time }
        return (
            format["duration"]?.stringValue.flatMap(Double.init) ?? .infinity, packets.filter(\.key).map { $0.time - origin }.sorted(),
            first?.key ?? false
        )
    }

    /// One piece: copied (from a keyframe) or encoded again; written to a temporary name, then renamed.
    /// `from` is seconds from the file's first packet, as ffmpeg's input `-ss` counts.
    private func write(folder: String, input: String, output: String, from: Double, length: Double, copy: Bool) throws {
        let temporary = folder + ".tmp-" + output
        let codecs = copy ? ["-c", "copy"] : ["-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"]
        // Seeking on the output side: ffmpeg reads the (short) segment from its start and drops what comes before
        // `from` (an input-side seek into an MPEG-TS segment lost the pictures of encoded pieces). A copy starts a hair
        // early so the keyframe itself is never dropped by rounding.
        let start = copy ? max(0, from - 0.0005) : from
        _ = try run(ffmpeg, ["-nostdin", "-v", "error", "-y", "-i", folder + input, "-ss", String(format: "%.6f", start),
                             "-t", String(format: "%.6f", length), "-map", "0:v:0?", "-map", "0:a:0?"] + codecs + ["-f", "mpegts", temporary])
        var written = stat()
        guard stat(temporary, &written) == 0, written.st_size > 0 else {
            unlink(temporary)
            throw ServiceError.internal("archive: ffmpeg wrote nothing for \(output) (\(String(format: "%.3f", length)) s from \(String(format: "%.3f", from)) s of \(input))")
        }
        guard rename(temporary, folder + output) == 0 else {
            let failure = ServiceError.fileOperation("archive: cannot write \(output)", errno: errno)
            unlink(temporary)
            throw failure
        }
    }

    /// Runs a tool; its standard output, or a 500 with its last error line. Output goes through temporary
    /// files (a packet listing outgrows a pipe's buffer), which are removed after.
    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let scratch = NSTemporaryDirectory() + "livestreamd-cut-" + Identifier.make()
        let (outputPath, errorPath) = (scratch + ".out", scratch + ".err")
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        guard FileManager.default.createFile(atPath: outputPath, contents: nil), FileManager.default.createFile(atPath: errorPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath), let errors = FileHandle(forWritingAtPath: errorPath)
        else {
            throw ServiceError.internal("archive: cannot create temporary files in \(NSTemporaryDirectory())")
        }
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.contains("/") ? tool : "/usr/bin/env")
        process.arguments = tool.contains("/") ? arguments : [tool] + arguments
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ServiceError.internal("archive: cannot run \(tool) (archive.file.ffmpeg, archive.file.ffprobe): \(error.localizedDescription)")
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            process.terminate()
            throw ServiceError(.internal, code: "cut_timeout", "archive: \(tool) took longer than \(timeout) to cut a clip's edge")
        }
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let last = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw ServiceError.internal("archive: \(tool) failed (\(process.terminationStatus)) cutting a clip's edge: \(last.prefix(300))")
        }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}
