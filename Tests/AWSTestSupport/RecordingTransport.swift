import AWSClient
import Synchronization

/// A transport that passes every request on and keeps a copy of it.
public final class RecordingTransport: HTTPTransport {
    private let inner: any HTTPTransport
    private let seen = Mutex<[HTTPRequest]>([])

    public init(_ inner: any HTTPTransport = URLSessionTransport()) {
        self.inner = inner
    }

    /// The requests sent so far.
    public var requests: [HTTPRequest] { seen.withLock { $0 } }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        seen.withLock { $0.append(request) }
        return try inner.send(request)
    }
}
