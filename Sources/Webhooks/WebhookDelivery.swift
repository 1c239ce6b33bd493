import AWSClient
import Foundation
import LivestreamCore
import Logging

/// Delivers the event journal to the webhook receiver, one event at a time in the journal's
/// order (so in order per stream), at least once.
///
/// An event is POSTed until the receiver answers 2xx, with pauses from 1 s doubling up to
/// `maxBackoff`; after `retryFor` it is given up (logged, counted) and the next one goes.
/// The cursor (what was delivered, the failure in progress) is stored in the journal after
/// every attempt, so a restart resumes where the last process stopped and re-sends at most
/// the event in flight, with the same `webhook-id`. Processes sharing a store take turns
/// through a claim on the cursor: one delivers while its claim holds (renewed with every
/// attempt, 30 s after the last), the others wait; at a takeover one event may be sent twice.
public final class WebhookDelivery: MaintenanceWork {
    public let settings: WebhookSettings
    private let journal: any EventJournal
    private let transport: any HTTPTransport
    private let logger: Logger
    private let now: @Sendable () -> Int64
    private let processId = Identifier.make()
    public let wakeup = MaintenanceWakeup()

    static let claim: Int64 = 30_000
    static let batch = 100

    /// - Parameter now: epoch milliseconds (tests).
    public init(
        settings: WebhookSettings, journal: any EventJournal, transport: any HTTPTransport = URLSessionTransport(maximumConnectionsPerHost: 2),
        logger: Logger, now: @escaping @Sendable () -> Int64 = { EventClock.nowMilliseconds() }
    ) {
        self.settings = settings
        self.journal = journal
        self.transport = transport
        self.logger = logger
        self.now = now
    }

    /// Reads (or, for a receiver seen for the first time, creates) the cursor before the service takes requests,
    /// so a new receiver gets every event from the first request on.
    public func prepare() {
        do {
            _ = try load()
        } catch {
            logger.error("webhook delivery cannot read or store its cursor yet", metadata: ["url": "\(settings.displayURL)", "error": "\(error)"])
        }
    }

    public func runRound() -> Duration {
        do {
            return try deliver()
        } catch {
            logger.error("webhook delivery cannot read or store its cursor", metadata: ["url": "\(settings.displayURL)", "error": "\(error)"])
            return settings.pollInterval
        }
    }

    private func deliver() throws -> Duration {
        var (state, version) = try load()
        let start = now()
        if let holder = state.holder, holder != processId, (state.heldUntil ?? 0) > start {
            return settings.pollInterval  // another process delivers
        }
        if let due = state.nextAttemptAt, due > start {
            return min(.milliseconds(due - start), settings.pollInterval)
        }
        let events = try journal.feed(after: state.after, limit: WebhookDelivery.batch)
        if let latest = try? journal.latestSequence() { ServiceMetrics.webhookBacklog(Int(max(0, latest - state.after))) }
        var moved = false
        for event in events {
            guard settings.types?.contains(event.type) ?? true else {
                state.after = event.sequence
                moved = true
                continue
            }
            let attemptAt = now()
            state.holder = processId
            state.heldUntil = attemptAt + WebhookDelivery.claim
            let failure = post(event, at: attemptAt)
            let done = now()
            if let failure {
                state.attempts += 1
                state.lastError = failure
                state.lastErrorAt = done
                let since = state.failingSince ?? attemptAt
                if done - since >= settings.retryFor.milliseconds {
                    logger.error("webhook event given up", metadata: [
                        "url": "\(settings.displayURL)", "event": "\(event.id)", "type": "\(event.type)", "attempts": "\(state.attempts)", "error": "\(failure)",
                    ])
                    ServiceMetrics.webhookDelivery("abandoned")
                    state.abandoned += 1
                    state.after = event.sequence
                    state.attempts = 0
                    state.failingSince = nil
                    state.nextAttemptAt = nil
                } else {
                    ServiceMetrics.webhookDelivery("failed")
                    let pause = backoff(after: state.attempts)
                    state.failingSince = since
                    state.nextAttemptAt = done + pause.milliseconds
                    state.heldUntil = done + pause.milliseconds + WebhookDelivery.claim
                    logger.notice("webhook delivery failed; retrying", metadata: [
                        "url": "\(settings.displayURL)", "event": "\(event.id)", "attempt": "\(state.attempts)", "error": "\(failure)", "retry_in": "\(pause)",
                    ])
                    guard try store(state, &version) else { return .zero }
                    return pause
                }
            } else {
                ServiceMetrics.webhookDelivery("delivered")
                state.after = event.sequence
                state.attempts = 0
                state.failingSince = nil
                state.nextAttemptAt = nil
                state.lastSuccessAt = done
                state.delivered += 1
            }
            // Stored after each event: a restart re-sends at most the one in flight.
            guard try store(state, &version) else { return .zero }
            moved = false
        }
        if moved { guard try store(state, &version) else { return .zero } }
        return events.count == WebhookDelivery.batch ? .zero : settings.pollInterval
    }

    /// Gives up this process's claim (at shutdown), so a successor or another process delivers at once rather than
    /// after the claim runs out.
    public func release() {
        guard let stored = try? journal.cursor(settings.cursorName), var state = DeliveryState(jsonValue: stored.value), state.holder == processId else { return }
        state.holder = nil
        state.heldUntil = nil
        _ = try? journal.storeCursor(settings.cursorName, value: state.jsonValue, replacing: stored.version)
    }

    /// POSTs one event; nil on a 2xx answer, else what went wrong (never the URL's query or the secret).
    private func post(_ event: StreamEvent, at attemptAt: Int64) -> String? {
        let body = WebhookDelivery.payload(event)
        let timestamp = attemptAt / 1000
        let request = HTTPRequest(method: "POST", url: settings.url, headers: [
            ("Content-Type", "application/json"), ("User-Agent", "livestreamd-webhooks"), ("webhook-id", event.id),
            ("webhook-timestamp", String(timestamp)), ("webhook-signature", WebhookSignature.sign(key: settings.key, id: event.id, timestamp: timestamp, body: body)),
        ], body: body, timeout: settings.timeout)
        do {
            let answer = try transport.send(request)
            return (200..<300).contains(answer.status) ? nil : "HTTP \(answer.status)"
        } catch let error as TransportError {
            return error.kind == .timeout ? "no answer within \(settings.timeout)" : "cannot connect"
        } catch {
            return "cannot send"
        }
    }

    /// The body: `{"type", "timestamp" (ISO 8601), "data": <the event as GET /events shows it>}`, as Standard Webhooks suggests.
    static func payload(_ event: StreamEvent) -> [UInt8] {
        let time = Date(timeIntervalSince1970: Double(event.at) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return JSONValue.object(["type": .string(event.type.rawValue), "timestamp": .string(formatter.string(from: time)), "data": event.jsonValue]).serialized()
    }

    private func backoff(after attempts: Int) -> Duration {
        let doubled = settings.initialBackoff * (1 << min(attempts - 1, 30))
        return min(doubled, settings.maxBackoff)
    }

    /// The stored state; a receiver seen for the first time starts after the journal's latest event (history is not replayed).
    private func load() throws -> (DeliveryState, Int?) {
        if let stored = try journal.cursor(settings.cursorName) {
            guard let state = DeliveryState(jsonValue: stored.value) else {
                throw ServiceError.internal("the webhook cursor \(settings.cursorName) is unreadable")
            }
            return (state, stored.version)
        }
        let state = DeliveryState(after: try journal.latestSequence())
        var version: Int?
        guard try store(state, &version) else { return try load() }
        return (state, version)
    }

    /// Compare-and-set of the cursor; false when another process stored it first (this round ends; the next reads it again).
    private func store(_ state: DeliveryState, _ version: inout Int?) throws -> Bool {
        guard try journal.storeCursor(settings.cursorName, value: state.jsonValue, replacing: version) else { return false }
        version = (version ?? 0) + 1
        return true
    }

    /// `GET /webhooks`: the receiver's delivery as stored, and how many events wait.
    public func status() throws -> JSONValue {
        let state = try journal.cursor(settings.cursorName).flatMap { DeliveryState(jsonValue: $0.value) }
        let waiting = try state.map { try backlog(after: $0.after) }
        func time(_ ms: Int64?) -> JSONValue { ms.map(JSONValue.int) ?? .null }
        return [
            "url": .string(settings.displayURL),
            "types": settings.types.map { .array($0.map(\.rawValue).sorted().map(JSONValue.string)) } ?? .null,
            "delivered_through": state.map { .int($0.after) } ?? .null,
            "backlog": waiting.map { .int(Int64($0)) } ?? .null,
            "delivered": .int(state?.delivered ?? 0), "abandoned": .int(state?.abandoned ?? 0),
            "last_success_at": time(state?.lastSuccessAt), "last_error": state?.lastError.map(JSONValue.string) ?? .null,
            "last_error_at": time(state?.lastErrorAt), "failing_since": time(state?.failingSince), "attempts": .int(Int64(state?.attempts ?? 0)),
            "next_attempt_at": time(state?.nextAttemptAt),
        ]
    }

    /// Events after `after` the receiver subscribes to, counted up to 10,000.
    private func backlog(after: Int64) throws -> Int {
        var count = 0
        var cursor = after
        while count < 10_000 {
            let page = try journal.feed(after: cursor, limit: 1000)
            count += page.filter { settings.types?.contains($0.type) ?? true }.count
            guard page.count == 1000, let last = page.last else { break }
            cursor = last.sequence
        }
        return count
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
