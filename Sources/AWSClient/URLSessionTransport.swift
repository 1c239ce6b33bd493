import Dispatch
import Foundation
import LivestreamCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's URLSession (libcurl on Linux).
///
/// Chosen over AsyncHTTPClient: no package to build (AsyncHTTPClient adds 3-4 minutes
/// to every CI build), TLS from the system, and the calls happen on the FastCGI worker
/// threads, which block anyway; an async client would need the same bridge.
///
/// Writes (any method but GET and HEAD) go on a connection of their own, made for the one
/// request (a session of its own, `Connection: close`): libcurl re-sends a request whose
/// kept-alive connection died before the answer on a new connection *without its body*, so
/// a write whose answer was lost, or sent on a connection the server had just closed, would
/// hang until the attempt timeout instead of failing at once and being retried by the
/// caller (who knows whether the write is safe to repeat). GETs keep their connections; every
/// other request pays a connection (and TLS handshake) of its own, which includes the JSON
/// protocols' reads (DynamoDB GetItem and Scan are POSTs).
public final class URLSessionTransport: HTTPTransport {
    private let reads: URLSession
    private let configuration: URLSessionConfiguration

    public init(maximumConnectionsPerHost: Int = 32) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        self.configuration = configuration
        reads = URLSession(configuration: configuration)
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let url = URL(string: request.url) else { throw TransportError(.connection, "invalid URL") }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = request.timeout.inSeconds
        for (name, value) in request.headers { urlRequest.addValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) { urlRequest.httpBody = Data(request.body) }
        let isRead = request.method == "GET" || request.method == "HEAD"
        if !isRead { urlRequest.setValue("close", forHTTPHeaderField: "Connection") }
        let session = isRead ? reads : URLSession(configuration: configuration)
        defer { if !isRead { session.finishTasksAndInvalidate() } }

        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }
        task.resume()
        done.wait()
        return try outcome.result()
    }

    /// The task's completion, handed from URLSession's queue to the waiting thread.
    private final class Outcome: @unchecked Sendable {
        private var data: Data?
        private var response: URLResponse?
        private var error: (any Error)?

        func set(data: Data?, response: URLResponse?, error: (any Error)?) {
            self.data = data
            self.response = response
            self.error = error
        }

        func result() throws -> HTTPResponse {
            if let error = error as? URLError {
                throw TransportError(error.code == .timedOut ? .timeout : .connection, error.localizedDescription)
            }
            if let error { throw TransportError(.connection, "\(error)") }
            guard let http = response as? HTTPURLResponse else { throw TransportError(.connection, "no HTTP response") }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
            }
            return HTTPResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data()))
        }
    }
}
