import LivestreamCore

/// The resources of the REST contract, parsed from path segments.
enum APIRoute: Equatable {
    case health
    case ready
    case openAPI
    case streams
    case stream(String)
    case start(String)
    case stop(String)
    case live(String)
    case split(String)
    /// One stream's event journal.
    case streamEvents(String)
    /// A stream's sessions.
    case sessions(String)
    /// One session of a stream (stream id, session id).
    case session(String, String)
    /// A pipeline's current picture.
    case thumbnail(String)
    /// Every stream's events.
    case events
    /// Prometheus text.
    case metrics
    /// Webhook delivery state.
    case webhooks

    init(segments: [String]) throws(ServiceError) {
        switch segments {
        case ["healthz"]: self = .health
        case ["readyz"]: self = .ready
        case ["openapi.json"]: self = .openAPI
        case ["streams"]: self = .streams
        case ["events"]: self = .events
        case ["metrics"]: self = .metrics
        case ["webhooks"]: self = .webhooks
        case let s where s.count == 2 && s[0] == "streams":
            self = .stream(try APIRoute.streamId(s[1]))
        case let s where s.count == 3 && s[0] == "streams":
            let id = try APIRoute.streamId(s[1])
            switch s[2] {
            case "start": self = .start(id)
            case "stop": self = .stop(id)
            case "live": self = .live(id)
            case "split": self = .split(id)
            case "events": self = .streamEvents(id)
            case "sessions": self = .sessions(id)
            case "thumbnail": self = .thumbnail(id)
            default: throw APIRoute.notFound
            }
        case let s where s.count == 4 && s[0] == "streams" && s[2] == "sessions":
            let id = try APIRoute.streamId(s[1])
            guard Identifier.isValid(s[3]) else {
                throw ServiceError.badRequest("a session id is a 32-character lowercase hex id", code: "invalid_session_id")
            }
            self = .session(id, s[3])
        default:
            throw APIRoute.notFound
        }
    }

    /// Methods the resource answers (besides OPTIONS).
    var methods: [String] {
        switch self {
        case .health, .ready, .openAPI, .events, .streamEvents, .metrics, .sessions, .webhooks, .thumbnail: ["GET"]
        case .session: ["GET", "DELETE"]
        case .streams: ["GET", "POST"]
        case .stream: ["GET", "POST", "DELETE"]
        case .start, .stop, .split: ["POST"]
        case .live: ["POST", "DELETE"]
        }
    }

    /// The route as a metric label: ids left out.
    var template: String {
        switch self {
        case .health: "/healthz"
        case .ready: "/readyz"
        case .openAPI: "/openapi.json"
        case .metrics: "/metrics"
        case .webhooks: "/webhooks"
        case .streams: "/streams"
        case .stream: "/streams/{id}"
        case .start: "/streams/{id}/start"
        case .stop: "/streams/{id}/stop"
        case .live: "/streams/{id}/live"
        case .split: "/streams/{id}/split"
        case .streamEvents: "/streams/{id}/events"
        case .sessions: "/streams/{id}/sessions"
        case .session: "/streams/{id}/sessions/{session_id}"
        case .thumbnail: "/streams/{id}/thumbnail"
        case .events: "/events"
        }
    }

    /// Whether configured API tokens apply.
    var needsToken: Bool {
        switch self {
        case .health, .ready, .openAPI: false
        default: true
        }
    }

    static let notFound = ServiceError(.notFound, code: "not_found", "no such resource")

    private static func streamId(_ text: String) throws(ServiceError) -> String {
        guard Identifier.isStorableStreamId(text) else {
            throw ServiceError.badRequest(
                "a stream id is 1-60 characters without control characters, '/', '\\', '%', a leading '.' or the prefix livestreamd_", code: "invalid_id")
        }
        return text
    }
}
