import AWSClient
import Foundation
import LivestreamCore
import Logging
import Synchronization
import Testing

@testable import Webhooks

/// A receiver double: answers from a script (status, or nil for no answer), records what it was sent.
final class ScriptedReceiver: HTTPTransport {
    let answers = Mutex<[Int?]>([])
    let received = Mutex<[HTTPRequest]>([])

    func send(_ request: HTTPRequest) throws -> HTTPResponse {
        received.withLock { $0.append(request) }
        let next = answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
        guard let status = next else { throw TransportError(.timeout, "no answer") }
        return HTTPResponse(status: status)
    }

    var ids: [String] { received.withLock { $0.map { header($0, "webhook-id") ?? "" } } }
}

func header(_ request: HTTPRequest, _ name: String) -> String? {
    request.headers.first { $0.0.lowercased() == name }?.1
}

/// Epoch milliseconds the test moves on.
final class TestClock: Sendable {
    private let value = Atomic<Int64>(1_765_000_000_000)
    var now: Int64 { value.load(ordering: .relaxed) }
    func advance(_ duration: Duration) { value.add(duration.milliseconds, ordering: .relaxed) }
}

struct WebhookDeliveryTests {
    let journal = MemoryEventJournal()
    let receiver = ScriptedReceiver()
    let clock = TestClock()
    static let key = Array(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!)

    func settings(types: Set<EventType>? = nil, retryFor: Duration = .seconds(60)) -> WebhookSettings {
        WebhookSettings(
            url: "https://hooks.example/in?token=t0k3n", key: WebhookDeliveryTests.key, types: types, retryFor: retryFor, initialBackoff: .seconds(1),
            maxBackoff: .seconds(8), timeout: .seconds(5), pollInterval: .seconds(2))
    }

    func delivery(_ settings: WebhookSettings? = nil) -> WebhookDelivery {
        let clock = self.clock
        return WebhookDelivery(settings: settings ?? self.settings(), journal: journal, transport: receiver, logger: Logger(label: "test"), now: { clock.now })
    }

    @discardableResult
    func append(_ type: EventType, stream: String = "s1") throws -> StreamEvent {
        try journal.append(NewEvent(streamId: stream, type: type, at: clock.now))
    }

    @Test func signsAsStandardWebhooksSays() {
        // The Standard Webhooks reference libraries' test vector.
        let signature = WebhookSignature.sign(key: WebhookDeliveryTests.key, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func aNewReceiverGetsWhatComesAfterItAndEverythingInOrder() throws {
        try append(.created)  // before the receiver existed: not replayed
        let work = delivery()
        #expect(work.runRound() == .seconds(2) && receiver.ids.isEmpty)
        let events = try [append(.started), append(.created, stream: "s2"), append(.stopped)]
        #expect(work.runRound() == .seconds(2))
        #expect(receiver.ids == events.map(\.id))
        let first = try #require(receiver.received.withLock { $0.first })
        let body = try JSONValue.parse(first.body)
        #expect(body.objectValue?["type"] == "stream.started" && body.objectValue?["data"] == events[0].jsonValue)
        let timestamp = try #require(header(first, "webhook-timestamp").flatMap { Int64($0) })
        #expect(timestamp == clock.now / 1000)
        #expect(header(first, "webhook-signature") == WebhookSignature.sign(key: WebhookDeliveryTests.key, id: events[0].id, timestamp: timestamp, body: first.body))
        let status = try work.status()
        #expect(status.objectValue?["delivered"] == 3 && status.objectValue?["backlog"] == 0)
        #expect(status.objectValue?["url"] == "https://hooks.example/in", "no query: it may hold a token")
    }

    @Test func aFailureHoldsBackTheRestAndIsRetriedWithGrowingPauses() throws {
        let work = delivery()
        _ = work.runRound()
        let events = try [append(.started), append(.stopped)]
        receiver.answers.withLock { $0 = [500, nil, 503, 500, 500, 200] }
        var pauses: [Duration] = []
        for _ in 0..<5 {
            pauses.append(work.runRound())
            clock.advance(pauses.last!)
        }
        #expect(pauses == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)], "doubling up to max_backoff")
        #expect(Set(receiver.ids) == [events[0].id], "nothing after a failing event")
        let failing = try work.status()
        #expect(failing.objectValue?["attempts"] == 5 && failing.objectValue?["last_error"] == "HTTP 500" && failing.objectValue?["backlog"] == 2)
        _ = work.runRound()
        #expect(receiver.ids == Array(repeating: events[0].id, count: 6) + [events[1].id])
        #expect(try work.status().objectValue?["last_error"] == "HTTP 500", "the last error stays to be seen")
    }

    @Test func anEventFailingForTooLongIsGivenUp() throws {
        let work = delivery(settings(retryFor: .seconds(10)))
        _ = work.runRound()
        let events = try [append(.started), append(.stopped)]
        receiver.answers.withLock { $0 = Array(repeating: 500, count: 5) }
        for _ in 0..<5 { clock.advance(work.runRound()) }
        #expect(receiver.ids.last == events[1].id, "given up after 10 s of failures, then the next one")
        #expect(try work.status().objectValue?["abandoned"] == 1)
    }

    @Test func theCursorSurvivesARestart() throws {
        let work = delivery()
        _ = work.runRound()
        let events = try [append(.started), append(.stopped)]
        receiver.answers.withLock { $0 = [200, 500] }
        _ = work.runRound()
        clock.advance(.seconds(1))
        let restarted = delivery()  // a new process: its own id, the stored cursor
        clock.advance(.seconds(31))  // the old process's claim ran out
        _ = restarted.runRound()
        #expect(receiver.ids == [events[0].id, events[1].id, events[1].id], "the failed one again, with the same id")
    }

    @Test func anotherProcessWaitsWhileTheClaimHolds() throws {
        let first = delivery()
        _ = first.runRound()
        try append(.started)
        _ = first.runRound()
        let second = delivery()
        try append(.stopped)
        _ = second.runRound()
        #expect(receiver.ids.count == 1, "the first process still holds the receiver")
        _ = first.runRound()
        #expect(receiver.ids.count == 2)
    }

    @Test func aProcessThatStopsLetsTheNextOneDeliverAtOnce() throws {
        let first = delivery()
        _ = first.runRound()
        try append(.started)
        _ = first.runRound()
        first.release()
        try append(.stopped)
        _ = delivery().runRound()
        #expect(receiver.ids.count == 2, "no wait for the claim to run out")
    }

    @Test func onlyTheChosenTypesAreSent() throws {
        let work = delivery(settings(types: [.stopped]))
        _ = work.runRound()
        let events = try [append(.created), append(.stopped), append(.updated)]
        _ = work.runRound()
        #expect(receiver.ids == [events[1].id])
        #expect(try work.status().objectValue?["delivered_through"] == .int(events[2].sequence))
    }

    @Test func settingsAreCheckedAtStartUp() throws {
        func load(_ environment: [String: String]) throws -> WebhookSettings? {
            try WebhookSettings.from(try Configuration.load(path: nil, options: WebhookSettings.options, environment: environment))
        }
        #expect(try load([:]) == nil)
        let url = "LIVESTREAM_EVENTS_WEBHOOKS_URL", secret = "LIVESTREAM_EVENTS_WEBHOOKS_SECRET"
        let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        #expect(try load([url: "https://h.example/x", secret: good])?.key == WebhookDeliveryTests.key)
        for (environment, says) in [
            ([url: "https://h.example/x"], "needs events.webhooks.secret"),
            ([url: "ftp://h.example/x", secret: good], "http or https"),
            ([url: "https://h.example/x", secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "whsec_"),
            ([url: "https://h.example/x", secret: "whsec_c2hvcnQ="], "24-64"),
            ([url: "https://h.example/x", secret: good, "LIVESTREAM_EVENTS_WEBHOOKS_TYPES": "stream.started,stream.exploded"], "stream.exploded"),
        ] {
            #expect { try load(environment) } throws: { error in
                let message = (error as? ConfigurationError)?.message ?? ""
                return message.contains(says) && !message.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            }
        }
    }
}
