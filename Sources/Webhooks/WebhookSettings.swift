import Foundation
import LivestreamCore

/// `events.webhooks.*`: where events are delivered, how they are signed, and how long a failing delivery is retried.
public struct WebhookSettings: Sendable {
    /// The receiver (http or https).
    public let url: String
    /// The HMAC key: the secret's bytes after `whsec_`, base64-decoded (Standard Webhooks).
    let key: [UInt8]
    /// Types delivered; nil: every type.
    public let types: Set<EventType>?
    /// How long one event is retried before it is given up (and the next one delivered).
    public let retryFor: Duration
    /// The first pause after a failure; doubled per failed attempt up to `maxBackoff`.
    public let initialBackoff: Duration
    public let maxBackoff: Duration
    /// Limit of one delivery attempt.
    public let timeout: Duration
    /// How often the journal is looked at for new events when nothing is due.
    public let pollInterval: Duration

    public static let options = [
        ConfigOption("events.webhooks.url", .string, default: nil, help: "where every journaled event is POSTed (http or https), signed as Standard Webhooks; unset = no webhooks"),
        ConfigOption(
            "events.webhooks.secret", .string, default: nil,
            help: "the signing secret: whsec_ and 24-64 random bytes in base64 (e.g. echo whsec_$(head -c 32 /dev/urandom | base64))", isSecret: true),
        ConfigOption("events.webhooks.types", .stringList, default: nil, help: "event types delivered (e.g. stream.started,stream.stopped); unset = all"),
        ConfigOption("events.webhooks.retry_hours", .integer(1...168), default: "24", help: "how long a failing event is retried before it is given up and the next one delivered"),
        ConfigOption("events.webhooks.max_backoff_seconds", .integer(1...86400), default: "3600", help: "the longest pause between attempts (from 1 s, doubled per failure)"),
        ConfigOption("events.webhooks.timeout_seconds", .integer(1...300), default: "10", help: "how long one attempt waits for the receiver's answer"),
    ]

    /// Nil when no URL is configured.
    public static func from(_ configuration: Configuration) throws(ConfigurationError) -> WebhookSettings? {
        guard let url = configuration.string("events.webhooks.url"), !url.isEmpty else { return nil }
        guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host?.isEmpty == false else {
            throw ConfigurationError("events.webhooks.url must be an http or https URL")
        }
        guard let secret = configuration.string("events.webhooks.secret") else {
            throw ConfigurationError("events.webhooks.url needs events.webhooks.secret (whsec_ and base64 of 24-64 random bytes)")
        }
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))), (24...64).contains(key.count) else {
            throw ConfigurationError("events.webhooks.secret must be whsec_ and base64 of 24-64 random bytes")
        }
        let types = configuration.list("events.webhooks.types")
        let known = Set(EventType.all.map(\.rawValue))
        if let unknown = types.first(where: { !known.contains($0) }) {
            throw ConfigurationError("events.webhooks.types: no event type \(unknown) (known: \(EventType.all.map(\.rawValue).joined(separator: ", ")))")
        }
        return WebhookSettings(
            url: url, key: Array(key), types: types.isEmpty ? nil : Set(types.map(EventType.init(rawValue:))),
            retryFor: .seconds(configuration.int("events.webhooks.retry_hours") * 3600), initialBackoff: .seconds(1),
            maxBackoff: .seconds(configuration.int("events.webhooks.max_backoff_seconds")), timeout: .seconds(configuration.int("events.webhooks.timeout_seconds")),
            pollInterval: .seconds(2))
    }

    init(url: String, key: [UInt8], types: Set<EventType>?, retryFor: Duration, initialBackoff: Duration, maxBackoff: Duration, timeout: Duration, pollInterval: Duration) {
        self.url = url
        self.key = key
        self.types = types
        self.retryFor = retryFor
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.timeout = timeout
        self.pollInterval = pollInterval
    }

    /// The URL as shown and logged: scheme, host, port and path; user info and query (which may hold tokens) left out.
    public var displayURL: String {
        guard var parts = URLComponents(string: url) else { return "<unreadable URL>" }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        parts.fragment = nil
        return parts.string ?? "<unreadable URL>"
    }

    /// The receiver's cursor name: a digest of the URL, so a new URL starts a delivery of its own.
    var cursorName: String {
        "webhook-" + WebhookSignature.hexDigest(Array(url.utf8)).prefix(16)
    }
}
