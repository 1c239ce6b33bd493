import Logging

#if canImport(Glibc)
import Glibc
#endif

/// livestreamd's log handler: one line per event on standard error.
///
/// `2026-11-29T10:18:45.123Z info livestreamd: key=value ... message`, metadata sorted
/// by key. Lines are formatted on the calling thread and written by `LogLines`, which
/// lets request threads batch them (one write per batch instead of one per request).
///
/// The level is the service's (`LogLines.level`), so a configuration reload changes it
/// for every logger at once; setting it on one logger is ignored.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public var logLevel: Logger.Level {
        get { LogLines.level }
        set {}
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = LogLines.timestamp()
        line += " "
        line += event.level.rawValue
        line += " "
        line += label
        line += ":"
        let merged = event.metadata.map { metadata.merging($0) { _, new in new } } ?? metadata
        for key in merged.keys.sorted() {
            line += " "
            line += key
            line += "="
            line += "\(merged[key]!)"
        }
        line += " "
        line += event.message.description
        line += "\n"
        // A message or value with a line break must not forge a second line.
        LogLines.emit(LineLogHandler.singleLine(line), urgent: event.level >= .notice)
    }

    private static func singleLine(_ line: String) -> String {
        var body = line.dropLast()
        guard body.contains(where: { $0 == "\n" || $0 == "\r" }) else { return line }
        body = Substring(body.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        return String(body) + "\n"
    }
}
