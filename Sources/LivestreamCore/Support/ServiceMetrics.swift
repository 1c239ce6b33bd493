import CoreMetrics
import Synchronization

/// The service's metrics, named in one place (swift-metrics: the executable bootstraps the
/// Prometheus backend; without one they cost nothing).
public enum ServiceMetrics {
    /// One answered API request: `route` is its template (`/streams/{id}/start`), never an id.
    public static func request(route: String, status: Int, duration: Duration) {
        Counter(label: "livestreamd_requests_total", dimensions: [("route", route), ("status", String(status))]).increment()
        Timer(label: "livestreamd_request_duration_seconds", dimensions: [("route", route)]).recordNanoseconds(duration.nanoseconds)
    }

    /// One attempt of an AWS call and how it ended (`ok`, an AWS error code, `timeout`, `connection`).
    public static func awsAttempt(service: String, operation: String, outcome: String) {
        Counter(label: "livestreamd_aws_calls_total", dimensions: [("service", service), ("operation", operation), ("outcome", outcome)]).increment()
    }

    /// An AWS call attempted again after a failure its retry policy allows.
    public static func awsRetry(service: String, operation: String) {
        Counter(label: "livestreamd_aws_retries_total", dimensions: [("service", service), ("operation", operation)]).increment()
    }

    /// An archive segment finished (`written`) or an archiver that could not archive (`failed`).
    public static func archiveSegment(_ outcome: String) {
        Counter(label: "livestreamd_archive_segments_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// An event appended to the journal.
    public static func event(_ type: EventType) {
        Counter(label: "livestreamd_events_total", dimensions: [("type", type.rawValue)]).increment()
    }

    /// Streams by `state` and connected publishers, as a background round counted them; a
    /// state no stream is in any more goes to 0.
    public static func streams(byState counts: [String: Int], publishers: Int?) {
        let states = knownStates.withLock { known in
            known.formUnion(counts.keys)
            return known
        }
        for state in states {
            Gauge(label: "livestreamd_streams", dimensions: [("state", state)]).record(counts[state] ?? 0)
        }
        if let publishers { Gauge(label: "livestreamd_publishers").record(publishers) }
    }

    /// Teardown work waiting in the cleanup journal.
    public static func pendingCleanups(_ count: Int) {
        Gauge(label: "livestreamd_pending_cleanups").record(count)
    }

    /// One webhook delivery attempt: `delivered`, `failed` (retried later) or `abandoned` (retried too long).
    public static func webhookDelivery(_ outcome: String) {
        Counter(label: "livestreamd_webhook_deliveries_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// Events waiting for the webhook receiver, as the last delivery round saw them: sequence numbers past its
    /// cursor (an upper bound: numbers have gaps, and types it does not take count too).
    public static func webhookBacklog(_ count: Int) {
        Gauge(label: "livestreamd_webhook_backlog").record(count)
    }

    private static let knownStates = Mutex<Set<String>>([])
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
