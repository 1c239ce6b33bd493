import Foundation
import Synchronization

/// When each nginx-rtmp publisher (by client id) last showed signs of life.
///
/// nginx-rtmp calls `on_update` for every publisher every `nginxUpdateSeconds` (the
/// snippet's `notify_update_timeout`), so a publisher unheard of for three intervals is
/// gone, even if its `on_publish_done` never arrived (livestreamd was down). Kept in memory:
/// after a restart, every publisher gets three intervals to report before it counts as gone.
final class PublisherLiveness: Sendable {
    /// Must match `notify_update_timeout` in the rtmp snippet (livestreamd nginx-config).
    static let nginxUpdateSeconds = 2

    private let silence: Duration
    private let started: ContinuousClock.Instant
    private let lastSeen = Mutex<[String: ContinuousClock.Instant]>([:])
    /// When each publisher was accepted (wall clock, for comparing with file times).
    private let accepted = Mutex<[String: Date]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    init(updateInterval: Duration, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        silence = updateInterval * 3
        self.now = now
        started = now()
    }

    func seen(_ client: String) {
        let instant = now()
        lastSeen.withLock { clients in
            clients[client] = instant
            if clients.count > 4096 { clients = clients.filter { instant - $0.value < silence } }
        }
    }

    /// Notes a publisher's acceptance.
    func accepted(_ client: String, at date: Date = Date()) {
        accepted.withLock { clients in
            clients[client] = date
            if clients.count > 4096 { clients = clients.filter { date.timeIntervalSince($0.value) < 86_400 } }
        }
        seen(client)
    }

    /// When the client was accepted by this process, if it was.
    func firstSeen(_ client: String) -> Date? {
        accepted.withLock { $0[client] }
    }

    /// False once the client has not reported for three update intervals.
    func isAlive(_ client: String) -> Bool {
        !isGone(client, listedByNginx: nil)
    }

    /// Whether the publisher is gone: unheard of for three update intervals, or, when
    /// nginx-rtmp's stat page was read (`listedByNginx`), absent from it and unheard of for
    /// one interval and a second (a publisher held by an older worker after a reload is
    /// missing from the page but still reports). A client the page lists counts as seen.
    func isGone(_ client: String, listedByNginx listed: Set<String>?) -> Bool {
        if listed?.contains(client) == true {
            seen(client)
            return false
        }
        let silent = now() - (lastSeen.withLock { $0[client] } ?? started)
        if silent >= silence { return true }
        return listed != nil && silent > silence / 3 + .seconds(1)
    }
}
