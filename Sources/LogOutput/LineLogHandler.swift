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
        let merged = event.metadata.map { metadata.merging($0) { _, new in new } } ?? metadata
        if LogLines.format == .json {
            LogLines.emit(jsonLine(event, merged), urgent: event.level >= .notice)
            return
        }
        var line = LogLines.timestamps ? LogLines.timestamp() + " " : ""
        line += event.level.rawValue
        line += " "
        line += label
        line += ":"
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

    /// `{"time":...,"level":...,"logger":...,"message":...,<metadata>}` (metadata as strings, keys sorted).
    private func jsonLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var fields: [(String, String)] = [("time", LogLines.timestamp()), ("level", event.level.rawValue), ("logger", label), ("message", event.message.description)]
        fields += metadata.keys.sorted().map { ($0, "\(metadata[$0]!)") }
        return "{" + fields.map { LineLogHandler.jsonString($0.0) + ":" + LineLogHandler.jsonString($0.1) }.joined(separator: ",") + "}\n"
    }

    /// A JSON string literal; control characters escaped, so a value cannot end the line.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func singleLine(_ line: String) -> String {
        var body = line.dropLast()
        guard body.contains(where: { $0 == "\n" || $0 == "\r" }) else { return line }
        body = Substring(body.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        return String(body) + "\n"
    }
}
