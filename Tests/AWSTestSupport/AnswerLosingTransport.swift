import AWSClient
import Synchronization

/// A transport that delivers chosen requests and then loses their answers: the service acted,
/// the caller sees a connection failure (what a reset after the request was sent looks like).
public final class AnswerLosingTransport: HTTPTransport {
    private let inner: any HTTPTransport
    /// JSON-protocol operation (the `X-Amz-Target` suffix) -> how many more of its answers to lose.
    private let losing = Mutex<[String: Int]>([:])

    public init(_ inner: any HTTPTransport = URLSessionTransport()) {
        self.inner = inner
    }

    /// Loses the answers of the next `count` calls of `operation`.
    public func lose(_ operation: String, count: Int = 1) {
        losing.withLock { $0[operation, default: 0] += count }
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let response = try inner.send(request)
        let target = request.headers.first { $0.0.lowercased() == "x-amz-target" }?.1.split(separator: ".").last.map(String.init) ?? ""
        let lose = losing.withLock { pending in
            guard let left = pending[target], left > 0 else { return false }
            pending[target] = left - 1
            return true
        }
        if lose { throw TransportError(.connection, "the answer was lost (test)") }
        return response
    }
}
