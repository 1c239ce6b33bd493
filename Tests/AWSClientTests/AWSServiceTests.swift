import AWSClient
import Foundation
import Logging
import Synchronization
import Testing

struct AWSServiceTests {
    static let credentials = CredentialChain(providers: [StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: nil)])

    func service(_ transport: ScriptedTransport, _ name: String = "dynamodb", retry: RetryPolicy = RetryPolicy(sleep: { _ in })) -> AWSService {
        AWSService(name: name, endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: transport, retry: retry, logger: Logger(label: "test"))
    }

    @Test func endpointsPreferPerServiceThenSharedThenStandard() {
        let endpoints = AWSEndpoints(region: "eu-west-1", shared: "http://127.0.0.1:5000/", perService: ["s3": "http://127.0.0.1:6000"])
        #expect(endpoints.url(for: "s3") == "http://127.0.0.1:6000")
        #expect(endpoints.url(for: "dynamodb") == "http://127.0.0.1:5000")
        #expect(AWSEndpoints(region: "eu-west-1").url(for: "medialive") == "https://medialive.eu-west-1.amazonaws.com")
        #expect(AWSEndpoints(region: "eu-west-1").url(for: "cloudfront") == "https://cloudfront.amazonaws.com")
    }

    @Test func jsonProtocolCallsAreSignedAndTargeted() throws {
        let transport = ScriptedTransport([("POST http://aws.test/", .success(HTTPResponse(status: 200, body: Array("{}".utf8))))])
        _ = try service(transport).json(targetPrefix: "DynamoDB_20120810", operation: "GetItem", body: Array("{}".utf8))
        let sent = try #require(transport.seen.withLock { $0.first })
        let headers = Dictionary(sent.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["x-amz-target"] == "DynamoDB_20120810.GetItem" && headers["content-type"] == "application/x-amz-json-1.0")
        #expect(headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/") == true && headers["authorization"]?.contains("/us-west-2/dynamodb/") == true)
        #expect(headers["authorization"]?.contains("secret") == false)
    }

    @Test(arguments: [
        (HTTPResponse(status: 400, headers: ["x-amzn-requestid": "R1"], body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#.utf8)),
         AWSError(service: "dynamodb", status: 400, code: "ConditionalCheckFailedException", message: "The conditional request failed", requestId: "R1")),
        (HTTPResponse(status: 404, headers: ["x-amzn-errortype": "NotFoundException:http://internal.amazon.com/"], body: Array(#"{"message":"Channel not found"}"#.utf8)),
         AWSError(service: "dynamodb", status: 404, code: "NotFoundException", message: "Channel not found", requestId: nil)),
        (HTTPResponse(status: 404, body: Array("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key &amp; more</Message><RequestId>R3</RequestId></Error>".utf8)),
         AWSError(service: "dynamodb", status: 404, code: "NoSuchKey", message: "The key & more", requestId: "R3")),
        (HTTPResponse(status: 412, body: Array("<ErrorResponse><Error><Type>Sender</Type><Code>PreconditionFailed</Code><Message>etag</Message></Error><RequestId>R4</RequestId></ErrorResponse>".utf8)),
         AWSError(service: "dynamodb", status: 412, code: "PreconditionFailed", message: "etag", requestId: "R4")),
        (HTTPResponse(status: 500, body: Array("<html>Internal Server Error</html>".utf8)),
         AWSError(service: "dynamodb", status: 500, code: "ServiceUnavailable", message: "HTTP 500", requestId: nil)),
    ])
    func errorAnswersAreParsed(_ response: HTTPResponse, _ expected: AWSError) {
        #expect(AWSError.parse(response, service: "dynamodb") == expected)
    }

    @Test func retriesThrottlingAndServerErrorsWithJitteredBackoff() throws {
        let waits = Mutex<[Duration]>([])
        let answers = Mutex<[HTTPResponse]>([
            HTTPResponse(status: 400, body: Array(#"{"__type":"ThrottlingException","message":"slow down"}"#.utf8)),
            HTTPResponse(status: 503, body: []),
            HTTPResponse(status: 200, body: Array("{}".utf8)),
        ])
        let transport = SequenceTransport { _ in answers.withLock { $0.removeFirst() } }
        let retry = RetryPolicy(maxAttempts: 3, base: .milliseconds(100), random: { 0.5 }, sleep: { wait in waits.withLock { $0.append(wait) } })
        let service = AWSService(name: "dynamodb", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: transport, retry: retry, logger: Logger(label: "t"))
        _ = try service.json(targetPrefix: "X", operation: "Y", body: [])
        #expect(waits.withLock { $0 } == [.milliseconds(50), .milliseconds(100)])
    }

    @Test func givesUpAfterMaxAttemptsAndNeverRetriesClientErrors() {
        let calls = Mutex(0)
        let failing = SequenceTransport { _ in
            calls.withLock { $0 += 1 }
            throw TransportError(.connection, "reset")
        }
        let retry = RetryPolicy(maxAttempts: 3, sleep: { _ in })
        let service = AWSService(name: "s3", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: failing, retry: retry, logger: Logger(label: "t"))
        #expect(throws: TransportError(.connection, "reset")) { try service.send(method: "GET", path: "/b") }
        #expect(calls.withLock { $0 } == 3)

        calls.withLock { $0 = 0 }
        let denied = SequenceTransport { _ in
            calls.withLock { $0 += 1 }
            return HTTPResponse(status: 403, body: Array("<Error><Code>AccessDenied</Code><Message>no</Message></Error>".utf8))
        }
        let strict = AWSService(name: "s3", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: denied, retry: retry, logger: Logger(label: "t"))
        #expect { try strict.send(method: "GET", path: "/b") } throws: { ($0 as? AWSError)?.code == "AccessDenied" }
        #expect(calls.withLock { $0 } == 1)
    }

    @Test func backoffIsCappedExponentialWithFullJitter() {
        let policy = RetryPolicy(base: .milliseconds(100), cap: .seconds(1), random: { 0.999 })
        #expect(policy.delay(after: 0) < .milliseconds(100) && policy.delay(after: 0) > .milliseconds(99))
        #expect(policy.delay(after: 3) < .milliseconds(800) && policy.delay(after: 3) > .milliseconds(790))
        #expect(policy.delay(after: 10) < .seconds(1) && policy.delay(after: 10) > .milliseconds(990))
        #expect(RetryPolicy(random: { 0 }).delay(after: 5) == .zero)
    }

    @Test func theTotalTimeoutBoundsAllAttempts() {
        let calls = Mutex(0)
        let slow = SequenceTransport { request in
            calls.withLock { $0 += 1 }
            #expect(request.timeout <= .milliseconds(300))
            throw TransportError(.timeout, "timed out")
        }
        let retry = RetryPolicy(maxAttempts: 10, base: .milliseconds(200), attemptTimeout: .milliseconds(300), totalTimeout: .milliseconds(500), random: { 0.99 })
        let service = AWSService(name: "s3", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: slow, retry: retry, logger: Logger(label: "t"))
        let started = ContinuousClock.now
        #expect(throws: TransportError.self) { try service.send(method: "GET", path: "/") }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(calls.withLock { $0 } < 10)
    }
}

/// A transport double answering through a closure.
struct SequenceTransport: HTTPTransport {
    let answer: @Sendable (HTTPRequest) throws -> HTTPResponse
    init(_ answer: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.answer = answer }
    func send(_ request: HTTPRequest) throws -> HTTPResponse { try answer(request) }
}
