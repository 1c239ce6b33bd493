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
/// Repeatable requests (reads, `HTTPRequest.repeatable`) share kept-alive connections.
/// When such a connection dies under a request, libcurl sends it again on a fresh one; it
/// rewinds the body only through `needNewBodyStream` (a `Data` body would go again *without*
/// its body, and hang until the attempt timeout), so their bodies are streams with a task
/// delegate that hands out a new one, and an explicit `Content-Length` (no chunked encoding).
///
/// Writes go on a connection made for the one request (a session of its own,
/// `Connection: close`): a write whose answer was lost must fail at once and be retried by
/// the caller, who knows whether it is safe to repeat, never be repeated by libcurl.
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
        let hasBody = !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method)
        let rewindable = request.repeatable && hasBody ? RewindableBody(Data(request.body)) : nil
        if let rewindable {
            urlRequest.httpBodyStream = rewindable.stream()
            urlRequest.setValue(String(request.body.count), forHTTPHeaderField: "Content-Length")
        } else if hasBody {
            urlRequest.httpBody = Data(request.body)
        }
        if !request.repeatable { urlRequest.setValue("close", forHTTPHeaderField: "Connection") }
        let session = request.repeatable ? reads : URLSession(configuration: configuration)
        defer { if !request.repeatable { session.finishTasksAndInvalidate() } }

        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }
        task.delegate = rewindable
        task.resume()
        done.wait()
        return try outcome.result()
    }

    /// A request body libcurl can rewind: each `needNewBodyStream` gets a fresh stream of the same bytes.
    private final class RewindableBody: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        private let body: Data

        init(_ body: Data) {
            self.body = body
        }

        func stream() -> InputStream { InputStream(data: body) }

        func urlSession(_ session: URLSession, task: URLSessionTask, needNewBodyStream completionHandler: @escaping (InputStream?) -> Void) {
            completionHandler(stream())
        }
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
