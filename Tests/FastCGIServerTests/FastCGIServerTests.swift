import Foundation
import Logging
import Testing

@testable import FastCGIServer

/// Answers `/slow` after `delay`, everything else at once with the request's method, path and body.
struct ScriptedResponder: FastCGIResponder {
    let delay: TimeInterval

    func respond(to request: FastCGIRequest) -> FastCGIResponse {
        if request.path == "/slow" { Thread.sleep(forTimeInterval: delay) }
        let body = "\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))"
        return FastCGIResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array(body.utf8))
    }

    func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse {
        FastCGIResponse(status: 413, body: Array("over \(limit)".utf8))
    }
}

/// A server on a socket in a temporary directory, running on its own thread.
final class RunningServer {
    let path: String
    let server: FastCGIServer
    private let done = DispatchSemaphore(value: 0)

    init(workers: Int, loops: Int, delay: TimeInterval = 1.5, maxBodyBytes: Int = 1 << 20) throws {
        path = NSTemporaryDirectory() + "fcgi-\(UUID().uuidString.prefix(8)).sock"
        server = try FastCGIServer(
            configuration: FastCGIServerConfiguration(listener: .unixSocket(path: path, mode: 0o600), workers: workers, loops: loops, maxBodyBytes: maxBodyBytes),
            responder: ScriptedResponder(delay: delay), logger: Logger(label: "test"))
        let server = self.server
        let done = self.done
        Thread.detachNewThread {
            server.run(drainTimeout: .seconds(5))
            done.signal()
        }
    }

    func stop() -> Bool {
        server.shutdown()
        return done.wait(timeout: .now() + 10) == .success
    }
}

struct FastCGIServerTests {
    typealias R = FastCGIRecords

    @Test func libfcgiReadsThroughTheFeed() {
        #expect(FeedExchange.selfCheck())
    }

    @Test func paramsAndBodyReachTheResponderAndTheAnswerComesBack() throws {
        let running = try RunningServer(workers: 2, loops: 1)
        defer { _ = running.stop() }
        let client = try TestClient(path: running.path)
        client.send(R.request(method: "POST", uri: "/echo?x=1", body: Array("hello".utf8)))
        let answer = try #require(client.response())
        #expect(answer.status == 200 && answer.body == "POST /echo hello")
        // The connection is kept: a second request on it.
        client.send(R.request(uri: "/again", id: 7))
        #expect(client.response()?.body == "GET /again ")
    }

    @Test func anOversizedBodyGets413AndTheConnectionStays() throws {
        let running = try RunningServer(workers: 2, loops: 1, maxBodyBytes: 1000)
        defer { _ = running.stop() }
        let client = try TestClient(path: running.path)
        client.send(R.request(method: "POST", uri: "/big", body: [UInt8](repeating: 0x41, count: 200_000)))
        #expect(client.response()?.status == 413)
        client.send(R.request(uri: "/after"))
        #expect(client.response()?.status == 200)
    }

    /// One loop, so both connections share a poller: the supervisor must move the loop
    /// to a spare worker while the slow request runs.
    @Test func aSlowRequestDoesNotHoldUpItsLoop() throws {
        let running = try RunningServer(workers: 2, loops: 1, delay: 2)
        defer { _ = running.stop() }
        let slow = try TestClient(path: running.path)
        let fast = try TestClient(path: running.path)
        slow.send(R.request(uri: "/slow"))
        Thread.sleep(forTimeInterval: 0.1)
        let started = Date()
        for _ in 0..<20 {
            fast.send(R.request(uri: "/fast"))
            #expect(fast.response()?.status == 200)
        }
        #expect(Date().timeIntervalSince(started) < 1, "the fast requests waited for the slow one")
        #expect(slow.response()?.body == "GET /slow ")
        // The slow request's thread gave the connection back: it serves again.
        slow.send(R.request(uri: "/next"))
        #expect(slow.response()?.body == "GET /next ")
    }

    /// As many slow requests as workers, on every loop: no connection waits for them.
    @Test func slowRequestsUpToTheWorkerCountStrandNoLoop() throws {
        let running = try RunningServer(workers: 3, loops: 2, delay: 2)
        defer { _ = running.stop() }
        let slow = try (0..<3).map { _ in try TestClient(path: running.path) }
        for client in slow { client.send(R.request(uri: "/slow")) }
        Thread.sleep(forTimeInterval: 0.2)
        let fast = try (0..<8).map { _ in try TestClient(path: running.path) }
        let started = Date()
        for _ in 0..<5 {
            for client in fast {
                client.send(R.request(uri: "/fast"))
                #expect(client.response()?.status == 200)
            }
        }
        #expect(Date().timeIntervalSince(started) < 1.5, "a loop waited for a slow request")
        for client in slow { #expect(client.response()?.status == 200) }
    }

    @Test func shutdownLetsTheRequestInFlightFinish() throws {
        let running = try RunningServer(workers: 2, loops: 1, delay: 0.5)
        let client = try TestClient(path: running.path)
        client.send(R.request(uri: "/slow"))
        Thread.sleep(forTimeInterval: 0.1)
        #expect(running.stop())
        #expect(client.response()?.status == 200)
        #expect(!FileManager.default.fileExists(atPath: running.path))
    }

    @Test func aServedSocketIsNotTakenOver() throws {
        let running = try RunningServer(workers: 1, loops: 1)
        defer { _ = running.stop() }
        #expect(throws: FastCGIServerError.self) {
            _ = try FastCGIServer(
                configuration: FastCGIServerConfiguration(listener: .unixSocket(path: running.path, mode: 0o600)),
                responder: ScriptedResponder(delay: 0), logger: Logger(label: "second"))
        }
        let client = try TestClient(path: running.path)
        client.send(R.request())
        #expect(client.response()?.status == 200)
    }
}
