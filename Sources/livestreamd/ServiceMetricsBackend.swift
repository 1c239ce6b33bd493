import CoreMetrics
import LivestreamCore
import Prometheus

/// The metrics backend: swift-metrics into a Prometheus registry, bootstrapped once per process
/// when `metrics.enabled`; `GET /metrics` answers its text and the process's own figures.
enum ServiceMetricsBackend {
    private static let registry = PrometheusCollectorRegistry()
    /// Set by `bootstrap`; nil: metrics are off.
    nonisolated(unsafe) private(set) static var scrape: (@Sendable () -> [UInt8])?

    /// Call once, before any metric is made (swift-metrics allows one bootstrap per process).
    static func bootstrap(_ configuration: Configuration) {
        guard configuration.bool("metrics.enabled") else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        scrape = { registry.emitToBuffer() + ProcessFigures.prometheusText() }
    }
}
