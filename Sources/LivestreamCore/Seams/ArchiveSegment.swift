/// One archived MPEG-TS segment of a session.
///
/// The encoder names segments `<destination base><name modifier>.<counter>.ts` where
/// the destination base ends in `_1` or `_2` (the pipeline), e.g.
/// `_1-20261125T101010.000003.ts` inside the session folder.
public struct ArchiveSegment: Sendable, Equatable {
    /// File name relative to the session folder; also the playlist URI.
    public var name: String
    /// 1 or 2.
    public var pipeline: Int
    /// The encoder's segment counter.
    public var counter: Int
    /// Real length in seconds, when the archive knows it.
    public var duration: Double?
    /// Size in bytes, when the archive lists it.
    public var bytes: Int64?

    public init(name: String, pipeline: Int, counter: Int, duration: Double?, bytes: Int64? = nil) {
        self.name = name
        self.pipeline = pipeline
        self.counter = counter
        self.duration = duration
        self.bytes = bytes
    }

    /// Parses a segment file name (no folders); nil for anything that is not a segment.
    /// - Parameter stem: the root's file-name stem, which the name must start with (see `ArchiveStore`).
    public init?(fileName: String, stem rootStem: String = "", duration: Double? = nil, bytes: Int64? = nil) {
        guard fileName.hasSuffix(".ts"), !fileName.contains("/"), fileName.hasPrefix(rootStem) else { return nil }
        let stem = fileName.dropFirst(rootStem.count).dropLast(3)
        guard let dot = stem.lastIndex(of: ".") else { return nil }
        let digits = stem[stem.index(after: dot)...]
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let counter = Int(digits) else { return nil }
        let base = stem[..<dot]
        let pipeline: Int
        if base.hasPrefix("_1") {
            pipeline = 1
        } else if base.hasPrefix("_2") {
            pipeline = 2
        } else {
            return nil
        }
        self.init(name: fileName, pipeline: pipeline, counter: counter, duration: duration, bytes: bytes)
    }
}
