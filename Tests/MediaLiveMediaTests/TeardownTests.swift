import AWSClient
import Foundation
import LivestreamCore
import Logging
@testable import MediaLiveMedia
import Synchronization
import Testing

/// Answers AWS calls from a script of (method, path prefix) -> response, and records them.
final class ScriptedTransport: HTTPTransport {
    let script: @Sendable (String, String) -> HTTPResponse
    let calls = Mutex<[String]>([])

    init(_ script: @escaping @Sendable (String, String) -> HTTPResponse) {
        self.script = script
    }

    func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let path = String(URL(string: request.url)!.path)
        calls.withLock { $0.append("\(request.method) \(path)") }
        return script(request.method, path)
    }
}

func services(_ transport: any HTTPTransport) -> MediaServices {
    let endpoints = AWSEndpoints(region: "us-east-1", shared: "http://aws.test")
    let credentials = CredentialChain(providers: [StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: nil)])
    func make(_ name: String) -> AWSService {
        AWSService(name: name, endpoints: endpoints, credentials: credentials, transport: transport, retry: RetryPolicy(maxAttempts: 1), logger: Logger(label: "test"))
    }
    return MediaServices(medialive: make("medialive"), mediapackage: make("mediapackage"), ssm: make("ssm"))
}

func json(_ status: Int, _ text: String) -> HTTPResponse {
    HTTPResponse(status: status, headers: ["content-type": "application/json"], body: Array(text.utf8))
}

struct TeardownTests {
    let record: StreamRecord = {
        var record = StreamRecord(id: "s1", name: "n", lastUpdate: "1")
        record.packageEndpointId = "s1-hls"
        record.packageChannelId = "s1"
        record.ssmPaths = ["/Medialive_api/a", "/Medialive_api/b"]
        record.liveChannelId = "c1"
        record.liveInputId = "i1"
        return record
    }()

    @Test func deletionOrderAndJournalFormRoundTrip() {
        let teardown = Teardown.deletion(of: record)
        #expect(teardown.steps == [
            .originEndpoint(id: "s1-hls"), .packageChannel(id: "s1"), .parameters(names: ["/Medialive_api/a", "/Medialive_api/b"]),
            .channel(id: "c1"), .input(id: "i1", channel: "c1"),
        ])
        #expect(Teardown(jsonValue: teardown.jsonValue) == teardown)
        #expect(Teardown(jsonValue: [["kind": "volcano", "id": "x"]]) == nil)
    }

    @Test func aRunningChannelIsStoppedAndTheInputWaitsForItsDeletion() {
        let transport = ScriptedTransport { method, path in
            switch (method, path) {
            case ("GET", "/prod/channels/c1"): json(200, #"{"id":"c1","state":"RUNNING"}"#)
            case ("DELETE", "/origin_endpoints/s1-hls"): json(404, #"{"message":"gone"}"#)
            default: json(200, "{}")
            }
        }
        let outcome = TeardownRunner(services: services(transport)).pass(Teardown.deletion(of: record))
        #expect(outcome.failure == nil)
        #expect(outcome.remaining.steps == [.channel(id: "c1"), .input(id: "i1", channel: "c1")], "an already deleted endpoint counts as done")
        #expect(transport.calls.withLock { $0 } == [
            "DELETE /origin_endpoints/s1-hls", "DELETE /channels/s1", "POST /", "GET /prod/channels/c1", "POST /prod/channels/c1/stop",
            "GET /prod/channels/c1",
        ])
    }

    @Test func aFailureStopsThePassAndKeepsTheRestInOrder() {
        let transport = ScriptedTransport { method, path in
            path == "/channels/s1" ? json(500, #"{"message":"boom"}"#) : json(200, #"{"state":"DELETED"}"#)
        }
        let outcome = TeardownRunner(services: services(transport)).pass(Teardown.deletion(of: record))
        #expect((outcome.failure as? AWSError)?.status == 500)
        #expect(outcome.remaining.steps.first == .packageChannel(id: "s1") && outcome.remaining.steps.count == 4)
    }

    @Test func aGoneChannelLetsTheInputGo() {
        let transport = ScriptedTransport { method, path in
            path.hasPrefix("/prod/channels/") ? json(404, #"{"message":"no such channel"}"#) : json(200, "{}")
        }
        let outcome = TeardownRunner(services: services(transport)).pass(Teardown(steps: [.channel(id: "c1"), .input(id: "i1", channel: "c1")]))
        #expect(outcome.remaining.isDone && outcome.failure == nil)
        #expect(transport.calls.withLock { $0 }.last == "DELETE /prod/inputs/i1")
    }
}
