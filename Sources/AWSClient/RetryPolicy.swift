import Foundation
import LivestreamCore
import Synchronization

/// When and how long to wait before another attempt: botocore's standard retry mode.
///
/// - Retried: throttling errors (`AWSError.throttlingCodes`, `LimitExceededException`
///   included), transient ones (`RequestTimeout`, `RequestTimeoutException`,
///   `PriorRequestNotComplete`), HTTP 500, 502, 503 and 504, and connection failures and
///   timeouts; nothing else (a 501 or a 4xx is an answer).
/// - Backoff: truncated binary exponential with full jitter, `random * min(20 s, base * 2^n)`
///   before retry n+1, where the base is 1 s after a throttling error and 50 ms after any
///   other (25 ms for DynamoDB): the bases of botocore's newer retry behaviour, chosen so
///   throttling backs off for seconds while a dropped connection is retried at once.
/// - A retry quota shared by every call of the process (`RetryQuota`, 500 tokens): a retry
///   costs 5, one after a timeout 10; a success gives back what its retries took, or 1. An
///   empty quota stops retrying, so a failing AWS is not hammered by every request at once.
/// - At most `maxAttempts` attempts within `totalTimeout`.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    /// Backoff base after a throttling error.
    public var throttlingBase: Duration
    /// Backoff base after any other retryable error.
    public var base: Duration
    public var cap: Duration
    /// Limit for one attempt.
    public var attemptTimeout: Duration
    /// Limit for all attempts and the waits between them.
    public var totalTimeout: Duration
    public let quota: RetryQuota
    /// Random fraction in [0, 1); injectable for tests.
    public var random: @Sendable () -> Double
    /// Sleeps the calling thread; injectable for tests.
    public var sleep: @Sendable (Duration) -> Void

    public init(
        maxAttempts: Int = 3, throttlingBase: Duration = .seconds(1), base: Duration = .milliseconds(50), cap: Duration = .seconds(20),
        attemptTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(30), quota: RetryQuota = RetryQuota(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.inSeconds) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.throttlingBase = throttlingBase
        self.base = base
        self.cap = cap
        self.attemptTimeout = attemptTimeout
        self.totalTimeout = totalTimeout
        self.quota = quota
        self.random = random
        self.sleep = sleep
    }

    /// The wait before retry `retry + 1` (0-based) after `error`, for `service`.
    public func delay(after retry: Int, of error: any Error, service: String = "") -> Duration {
        let scale = Self.isThrottling(error) ? throttlingBase : service == "dynamodb" ? base / 2 : base
        return min(cap, scale * Int(pow(2.0, Double(min(retry, 30))))) * random()
    }

    public static func isThrottling(_ error: any Error) -> Bool {
        guard let error = error as? AWSError else { return false }
        return AWSError.throttlingCodes.contains(error.code)
    }

    /// Whether an error from an attempt may be retried.
    public func isRetryable(_ error: any Error) -> Bool {
        if let error = error as? AWSError { return error.isRetryable }
        return error is TransportError
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts, the time or the quota run out.
    /// - Parameters:
    ///   - service: the service's signing name (DynamoDB retries sooner).
    ///   - attempt: receives the time this attempt may take.
    public func run<T>(service: String = "", _ attempt: (Duration) throws -> T) throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + totalTimeout
        var number = 0
        var acquired: Int?
        while true {
            let remaining = deadline - clock.now
            do {
                let result = try attempt(min(attemptTimeout, max(remaining, .milliseconds(1))))
                quota.release(acquired ?? RetryQuota.noRetryIncrement)
                return result
            } catch {
                number += 1
                guard number < maxAttempts, isRetryable(error) else { throw error }
                let cost = (error as? TransportError)?.kind == .timeout ? RetryQuota.timeoutCost : RetryQuota.retryCost
                guard quota.acquire(cost) else { throw error }
                acquired = cost
                let wait = delay(after: number - 1, of: error, service: service)
                guard clock.now + wait < deadline else { throw error }
                sleep(wait)
            }
        }
    }
}

/// The retry tokens a process shares (botocore's `RetryQuota`): 500, retries take, successes give back.
public final class RetryQuota: Sendable {
    /// The one every AWS client of this process shares.
    public static let process = RetryQuota()
    public static let capacity = 500
    static let retryCost = 5
    static let timeoutCost = 10
    static let noRetryIncrement = 1

    private let available: Mutex<Int>

    public init(capacity: Int = RetryQuota.capacity) {
        available = Mutex(capacity)
        self.capacity = capacity
    }

    private let capacity: Int

    public var tokens: Int { available.withLock { $0 } }

    func acquire(_ amount: Int) -> Bool {
        available.withLock { tokens in
            guard amount <= tokens else { return false }
            tokens -= amount
            return true
        }
    }

    func release(_ amount: Int) {
        available.withLock { $0 = min(capacity, $0 + amount) }
    }
}
