import Foundation
import LivestreamCore
import LogOutput
import Logging
import Webhooks

/// The service's own configuration keys (plugins declare theirs when they register).
enum ServiceOptions {
    static let all: [ConfigOption] = [
        ConfigOption("server.socket", .string, default: nil, help: "unix socket to create and listen on; unset = the listening socket inherited as fd 0 (spawn-fcgi)"),
        ConfigOption("server.socket_mode", .string, default: "0660", help: "permissions of the created socket (octal); nginx's workers must be able to connect"),
        ConfigOption("server.workers", .integer(1...1024), default: "16", help: "requests that may run at once (a slow backend call holds one); one poller thread per core comes on top"),
        ConfigOption("server.read_timeout_ms", .integer(100...600_000), default: "5000", help: "time a connection gets to deliver a whole request (from its first byte, or from its opening); then it is closed"),
        ConfigOption("server.write_timeout_ms", .integer(100...600_000), default: "10000", help: "time the web server gets to take an answer; then the connection is closed"),
        ConfigOption("server.idle_timeout_ms", .integer(1000...86_400_000), default: "90000", help: "time a kept connection may sit unused; keep it above nginx's upstream keepalive_timeout (60 s)"),
        ConfigOption("server.max_connections", .integer(16...1_000_000), default: "4096", help: "connections open at once; more are closed at once (the descriptor limit is raised to fit)"),
        ConfigOption("server.max_body_bytes", .integer(1024...67_108_864), default: "1048576", help: "largest request body; larger ones get 413"),
        ConfigOption("server.api_prefix", .string, default: "", help: "path prefix the API is mounted under, e.g. /api"),
        ConfigOption("server.cors_origin", .string, default: "*", help: "Access-Control-Allow-Origin of every response"),
        ConfigOption("server.console", .boolean, default: "true", help: "nginx-config serves the operator's console (static files calling the API) at <api_prefix>/console/"),
        ConfigOption(
            "server.console_directory", .string, default: nil,
            help: "folder of the console's files; unset = share/livestreamd/console beside the installed binary, or console/ of the source tree"),
        ConfigOption("server.api_tokens", .stringList, default: nil, help: "when set, /streams requests need Authorization: Bearer <one of these>", isSecret: true),
        ConfigOption(
            "metrics.enabled", .boolean, default: "true",
            help: "GET /metrics (on the API, with its token) answers Prometheus text: requests, AWS calls, streams, publishers, archive segments, events, cleanups, the process"),
        ConfigOption(
            "events.retention_days", .integer(1...3650), default: "30",
            help: "how long the event journal (GET /events, GET /streams/{id}/events) keeps events; older ones go once an hour"),
    ] + WebhookSettings.options + [
        ConfigOption("log.file", .string, default: nil, help: "file the log is appended to (reopened on SIGHUP, for logrotate); unset = standard error"),
        ConfigOption("log.level", .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]), default: "info", help: "least severe log level written to stderr"),
        ConfigOption(
            "log.format", .choice(LogLines.Format.allCases.map(\.rawValue)), default: "text",
            help: "text: time level logger: key=value ... message (no time of its own when journald reads standard error); json: one object per line"),
    ]

    /// What `serve` would refuse in the service's own settings (every problem, one line each).
    static func problems(_ configuration: Configuration) -> [String] {
        var found: [String] = []
        if socketMode(configuration) == nil {
            found.append("server.socket_mode must be octal permissions such as 0660 (is '\(configuration.string("server.socket_mode") ?? "")')")
        }
        do {
            _ = try WebhookSettings.from(configuration)
        } catch {
            found.append(error.message)
        }
        if let path = configuration.string("server.socket"), !path.isEmpty {
            // serve creates the socket's folder when it makes the socket itself (not when systemd passes it).
            if let problem = DirectoryCheck.problem(socketFolder(path), what: "the folder of server.socket") { found.append(problem) }
        }
        return found
    }

    /// `server.socket_mode` as permission bits; nil when it is not octal up to 0777.
    static func socketMode(_ configuration: Configuration) -> UInt32? {
        guard let mode = UInt32(configuration.string("server.socket_mode") ?? "0660", radix: 8), mode <= 0o777 else { return nil }
        return mode
    }

    static func socketFolder(_ path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// `log.level` and `log.format`; text lines carry no time of their own when journald reads
    /// standard error (`JOURNAL_STREAM`) and the log is not in a file.
    static func applyLogSettings(_ configuration: Configuration, environment: [String: String]) {
        LogLines.level = Logger.Level(rawValue: configuration.string("log.level") ?? "info") ?? .info
        LogLines.format = LogLines.Format(rawValue: configuration.string("log.format") ?? "text") ?? .text
        let toFile = !(configuration.string("log.file") ?? "").isEmpty
        LogLines.timestamps = toFile || environment["JOURNAL_STREAM"] == nil
    }
}
