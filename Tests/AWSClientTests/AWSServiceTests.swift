@testable import AWSClient
import Foundation
import Logging
import Synchronization
import Testing

struct AWSServiceTests {
    static let credentials = CredentialChain(providers: [StaticCredentialProvider(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: nil)])

    func service(_ transport: ScriptedTransport, _ name: String = "dynamodb", retry: RetryPolicy = RetryPolicy(sleep: { _ in })) -> AWSService {
        AWSService(name: name, endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: transport, retry: retry, logger: Logger(label: "test"))
    }

    @Test func metricLabelsNameTheOperationNeverTheResource() {
        #expect(AWSService.operationLabel(method: "POST", path: "/", headers: [("X-Amz-Target", "DynamoDB_20120810.GetItem")]) == "GetItem")
        #expect(AWSService.operationLabel(method: "GET", path: "/prod/channels/1234567/alerts", headers: []) == "GET /prod/channels/{id}/alerts")
        #expect(AWSService.operationLabel(method: "DELETE", path: "/channels/0123456789abcdef0123456789abcdef", headers: []) == "DELETE /channels/{id}")
        #expect(AWSService.operationLabel(method: "PUT", path: "/bucket/2026/12/07/stream-17650/_1.000001.ts", headers: []) == "PUT /bucket/{id}/{id}/{id}/…")
        #expect(AWSService.operationLabel(method: "POST", path: "/prod/channels", headers: []) == "POST /prod/channels")
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
        let retry = RetryPolicy(maxAttempts: 3, random: { 0.5 }, sleep: { wait in waits.withLock { $0.append(wait) } })
        let service = AWSService(name: "medialive", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: transport, retry: retry, logger: Logger(label: "t"))
        _ = try service.json(targetPrefix: "X", operation: "Y", body: [])
        // Throttled: 0.5 x 1 s; then a 503: 0.5 x 50 ms x 2.
        #expect(waits.withLock { $0 } == [.milliseconds(500), .milliseconds(50)])
    }

    /// botocore's standard mode, case by case (botocore/retries/standard.py).
    @Test(arguments: [
        (400, "ThrottlingException", true), (400, "LimitExceededException", true), (400, "ProvisionedThroughputExceededException", true),
        (400, "RequestTimeout", true), (408, "RequestTimeoutException", true), (400, "PriorRequestNotComplete", true),
        (500, "InternalError", true), (502, "BadGateway", true), (503, "ServiceUnavailable", true), (504, "GatewayTimeout", true),
        (501, "NotImplemented", false), (429, "", false), (400, "ValidationException", false), (403, "AccessDenied", false),
        (404, "NotFoundException", false), (409, "ConflictException", false),
    ])
    func retryableAsBotocoreStandardMode(_ status: Int, _ code: String, _ retryable: Bool) {
        #expect(AWSError(service: "s", status: status, code: code, message: "", requestId: nil).isRetryable == retryable)
    }

    @Test func backoffBasesAndTheRetryQuota() throws {
        let throttled = AWSError(service: "s", status: 400, code: "ThrottlingException", message: "", requestId: nil)
        let failed = AWSError(service: "s", status: 500, code: "InternalError", message: "", requestId: nil)
        let policy = RetryPolicy(random: { 0.999 })
        #expect(policy.delay(after: 0, of: throttled) > .milliseconds(990) && policy.delay(after: 0, of: throttled) < .seconds(1))
        #expect(policy.delay(after: 0, of: failed) > .milliseconds(49) && policy.delay(after: 0, of: failed) < .milliseconds(50))
        #expect(policy.delay(after: 0, of: failed, service: "dynamodb") < .milliseconds(25))
        #expect(policy.delay(after: 10, of: throttled) < .seconds(20) && policy.delay(after: 10, of: throttled) > .milliseconds(19_900), "capped at 20 s")
        #expect(RetryPolicy(random: { 0 }).delay(after: 5, of: failed) == .zero)

        // 500 tokens: a retry costs 5, one after a timeout 10; an empty quota stops retrying.
        let quota = RetryQuota(capacity: 12)
        let calls = Mutex(0)
        let timingOut = RetryPolicy(maxAttempts: 5, quota: quota, random: { 0 }, sleep: { _ in })
        #expect(throws: TransportError.self) {
            try timingOut.run { _ -> Int in
                calls.withLock { $0 += 1 }
                throw TransportError(.timeout, "slow")
            }
        }
        #expect(calls.withLock { $0 } == 2 && quota.tokens == 2, "one retry (10 tokens), then the quota is short")
        // A success after retries gives back what they took; a first-time success gives back 1.
        let refill = RetryPolicy(maxAttempts: 3, quota: quota, random: { 0 }, sleep: { _ in })
        #expect(try refill.run { _ in 7 } == 7 && quota.tokens == 3)
    }

    @Test func givesUpAfterMaxAttemptsAndNeverRetriesClientErrors() {
        let calls = Mutex(0)
        let failing = SequenceTransport { _ in
            calls.withLock { $0 += 1 }
            throw TransportError(.connection, "reset")
        }
        let retry = RetryPolicy(maxAttempts: 3, quota: RetryQuota(), sleep: { _ in })
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

    @Test func aSkewedClockIsCorrectedFromTheServicesDateOnce() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let serverNow = Date().addingTimeInterval(3600)
        let seen = Mutex<[HTTPRequest]>([])
        let transport = SequenceTransport { request in
            let count = seen.withLock { $0.append(request); return $0.count }
            if count == 1 {
                return HTTPResponse(status: 403, headers: ["date": formatter.string(from: serverNow)],
                                    body: Array("<Error><Code>RequestTimeTooSkewed</Code><Message>too far</Message></Error>".utf8))
            }
            return HTTPResponse(status: 200, body: [])
        }
        let skew = ClockSkew()
        let service = AWSService(
            name: "s3", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: transport,
            retry: RetryPolicy(quota: RetryQuota(), sleep: { _ in }), logger: Logger(label: "t"), clockSkew: skew)
        _ = try service.send(method: "GET", path: "/b")
        let stamps = seen.withLock { $0 }.map { request in request.headers.first { $0.0.lowercased() == "x-amz-date" }?.1 ?? "" }
        let parse = DateFormatter()
        parse.locale = Locale(identifier: "en_US_POSIX")
        parse.timeZone = TimeZone(identifier: "GMT")
        parse.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let first = try #require(parse.date(from: stamps[0]))
        let second = try #require(parse.date(from: stamps[1]))
        #expect(abs(second.timeIntervalSince(first) - 3600) < 5, "signed again with the service's time")
        #expect(abs(skew.offset - 3600) < 5)
        // A refused signature while the clocks agree is a real refusal: no second try.
        let refused = SequenceTransport { _ in
            HTTPResponse(status: 403, headers: ["date": formatter.string(from: Date())], body: Array("<Error><Code>SignatureDoesNotMatch</Code></Error>".utf8))
        }
        let strict = AWSService(
            name: "s3", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: Self.credentials, transport: refused,
            retry: RetryPolicy(quota: RetryQuota(), sleep: { _ in }), logger: Logger(label: "t"), clockSkew: ClockSkew())
        #expect { try strict.send(method: "GET", path: "/b") } throws: { ($0 as? AWSError)?.code == "SignatureDoesNotMatch" }
    }

    @Test func expiredCredentialsAreLoadedAgainOnce() throws {
        let source = CredentialTests.Sequence([
            .success(AWSCredentials(accessKeyId: "ASIAOLD", secretAccessKey: "s", sessionToken: "t")),
            .success(AWSCredentials(accessKeyId: "ASIANEW", secretAccessKey: "s", sessionToken: "t")),
        ])
        let seen = Mutex<[HTTPRequest]>([])
        let transport = SequenceTransport { request in
            let count = seen.withLock { $0.append(request); return $0.count }
            return count == 1 ? HTTPResponse(status: 400, body: Array(#"{"__type":"ExpiredTokenException","message":"expired"}"#.utf8)) : HTTPResponse(status: 200, body: Array("{}".utf8))
        }
        let service = AWSService(
            name: "dynamodb", endpoints: AWSEndpoints(region: "us-west-2", shared: "http://aws.test"), credentials: CredentialChain(providers: [source]),
            transport: transport, retry: RetryPolicy(quota: RetryQuota(), sleep: { _ in }), logger: Logger(label: "t"), clockSkew: ClockSkew())
        _ = try service.json(targetPrefix: "X", operation: "Y", body: [])
        let keys = seen.withLock { $0 }.map { request in request.headers.first { $0.0 == "Authorization" }?.1 ?? "" }
        #expect(keys.count == 2 && keys[0].contains("Credential=ASIAOLD/") && keys[1].contains("Credential=ASIANEW/"))
    }

    @Test func theTotalTimeoutBoundsAllAttempts() {
        let calls = Mutex(0)
        let slow = SequenceTransport { request in
            calls.withLock { $0 += 1 }
            #expect(request.timeout <= .milliseconds(300))
            throw TransportError(.timeout, "timed out")
        }
        let retry = RetryPolicy(maxAttempts: 10, base: .milliseconds(200), attemptTimeout: .milliseconds(300), totalTimeout: .milliseconds(500), quota: RetryQuota(), random: { 0.99 })
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
