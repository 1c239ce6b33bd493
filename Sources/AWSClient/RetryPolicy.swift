import Foundation
import LivestreamCore

/// When and how long to wait before another attempt.
///
/// Capped exponential backoff with full jitter: before attempt n+1 the client sleeps a
/// random time in `[0, min(cap, base * 2^n))`. Throttling, 5xx answers and connection
/// failures or timeouts are retried, up to `maxAttempts` attempts and within `totalTimeout`.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var base: Duration
    public var cap: Duration
    /// Limit for one attempt.
    public var attemptTimeout: Duration
    /// Limit for all attempts and the waits between them.
    public var totalTimeout: Duration
    /// Random fraction in [0, 1); injectable for tests.
    public var random: @Sendable () -> Double
    /// Sleeps the calling thread; injectable for tests.
    public var sleep: @Sendable (Duration) -> Void

    public init(
        maxAttempts: Int = 3, base: Duration = .milliseconds(100), cap: Duration = .seconds(20),
        attemptTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(30),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.inSeconds) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base
        self.cap = cap
        self.attemptTimeout = attemptTimeout
        self.totalTimeout = totalTimeout
        self.random = random
        self.sleep = sleep
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 0).
    public func delay(after attempt: Int) -> Duration {
        let ceiling = min(cap, base * Int(pow(2.0, Double(min(attempt, 30)))))
        return ceiling * random()
    }

    /// Whether an error from an attempt may be retried.
    public func isRetryable(_ error: any Error) -> Bool {
        if let error = error as? AWSError { return error.isRetryable }
        return error is TransportError
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts or time run out.
    /// - Parameter attempt: receives the time this attempt may take.
    public func run<T>(_ attempt: (Duration) throws -> T) throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + totalTimeout
        var number = 0
        while true {
            let remaining = deadline - clock.now
            do {
                return try attempt(min(attemptTimeout, max(remaining, .milliseconds(1))))
            } catch {
                number += 1
                guard number < maxAttempts, isRetryable(error) else { throw error }
                let wait = delay(after: number - 1)
                guard clock.now + wait < deadline else { throw error }
                sleep(wait)
            }
        }
    }
}
