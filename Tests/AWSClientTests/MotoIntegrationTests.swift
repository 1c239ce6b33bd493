import AWSClient
import Foundation
import Logging
import Testing

/// The AWS client against `moto_server` on loopback with signature checking switched on:
/// real HTTP through URLSession, real SigV4 verification, real error answers.
final class MotoServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() throws {
        port = Int.random(in: 20000...45000)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        // The first three calls go unchecked (to make a user and its key); every later one must be signed correctly.
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? URLSessionTransport().send(HTTPRequest(method: "GET", url: endpoint + "/moto-api/", timeout: .seconds(1))))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        process.terminate()
        throw CredentialsError("moto_server did not start (pip install 'moto[server]')")
    }

    deinit {
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct MotoIntegrationTests {
    static func service(_ name: String, _ moto: MotoServer, key: String, secret: String, retry: RetryPolicy = RetryPolicy(maxAttempts: 1)) -> AWSService {
        AWSService(
            name: name, endpoints: AWSEndpoints(region: "us-east-1", shared: moto.endpoint),
            credentials: CredentialChain(providers: [StaticCredentialProvider(accessKeyId: key, secretAccessKey: secret, sessionToken: nil)]),
            transport: URLSessionTransport(), retry: retry, logger: Logger(label: "moto"))
    }

    /// IAM's query protocol: CreateUser, PutUserPolicy (allow everything), CreateAccessKey.
    static func makeAccessKey(_ moto: MotoServer) throws -> (String, String) {
        let iam = service("iam", moto, key: "AKIDBOOTSTRAP", secret: "bootstrap")
        func call(_ form: String) throws -> String {
            let response = try iam.send(method: "POST", path: "/", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array((form + "&Version=2010-05-08").utf8))
            return String(decoding: response.body, as: UTF8.self)
        }
        _ = try call("Action=CreateUser&UserName=livestreamd")
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try call("Action=PutUserPolicy&UserName=livestreamd&PolicyName=all&PolicyDocument=" + SignatureV4.uriEncode(policy, keepSlash: false))
        let created = try call("Action=CreateAccessKey&UserName=livestreamd")
        func element(_ name: String) -> String? {
            guard let open = created.range(of: "<\(name)>"), let close = created.range(of: "</\(name)>") else { return nil }
            return String(created[open.upperBound..<close.lowerBound])
        }
        return (try #require(element("AccessKeyId")), try #require(element("SecretAccessKey")))
    }

    @Test func signedCallsPassAndWrongSecretsAreRefused() throws {
        let moto = try MotoServer()
        let (key, secret) = try Self.makeAccessKey(moto)
        let dynamodb = Self.service("dynamodb", moto, key: key, secret: secret)
        let table = #"{"TableName":"streams","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#
        _ = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "CreateTable", body: Array(table.utf8))
        let item = #"{"TableName":"streams","Item":{"id":{"S":"caf\u00e9"},"n":{"N":"1"}}}"#
        _ = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "PutItem", body: Array(item.utf8))
        let read = try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "GetItem", body: Array(#"{"TableName":"streams","Key":{"id":{"S":"café"}},"ConsistentRead":true}"#.utf8))
        #expect(String(decoding: read, as: UTF8.self).contains(#""N": "1""#) || String(decoding: read, as: UTF8.self).contains(#""N":"1""#))

        let condition = #"{"TableName":"streams","Item":{"id":{"S":"café"}},"ConditionExpression":"attribute_not_exists(id)"}"#
        #expect { try dynamodb.json(targetPrefix: "DynamoDB_20120810", operation: "PutItem", body: Array(condition.utf8)) } throws: {
            ($0 as? AWSError)?.code == "ConditionalCheckFailedException" && ($0 as? AWSError)?.status == 400
        }

        let forged = Self.service("dynamodb", moto, key: key, secret: secret + "x")
        #expect { try forged.json(targetPrefix: "DynamoDB_20120810", operation: "ListTables", body: Array("{}".utf8)) } throws: { error in
            let aws = error as? AWSError
            return aws?.status == 403 && (aws?.code.contains("Signature") ?? false) && !"\(error)".contains(secret)
        }

        // moto 5.2 miscomputes S3 signatures once the key or query holds percent-encoded
        // characters (boto3's own requests fail the same way), so S3 keys here are plain;
        // encoded keys are covered by the botocore vectors.
        let s3 = Self.service("s3", moto, key: key, secret: secret)
        _ = try s3.send(method: "PUT", path: "/archive")
        _ = try s3.send(method: "PUT", path: "/archive/2026/11/25/clip.m3u8", headers: [("Content-Type", "application/vnd.apple.mpegurl")], body: Array("#EXTM3U\n".utf8))
        let fetched = try s3.send(method: "GET", path: "/archive/2026/11/25/clip.m3u8")
        #expect(fetched.body == Array("#EXTM3U\n".utf8))
        #expect { try s3.send(method: "GET", path: "/archive/missing") } throws: { ($0 as? AWSError)?.code == "NoSuchKey" }
    }

    @Test func connectionFailuresAreRetriedThenReported() throws {
        let closedPort = Int.random(in: 45001...50000)
        let retry = RetryPolicy(maxAttempts: 3, base: .milliseconds(10))
        let service = AWSService(
            name: "dynamodb", endpoints: AWSEndpoints(region: "us-east-1", shared: "http://127.0.0.1:\(closedPort)"),
            credentials: CredentialChain(providers: [StaticCredentialProvider(accessKeyId: "A", secretAccessKey: "B", sessionToken: nil)]),
            transport: URLSessionTransport(), retry: retry, logger: Logger(label: "t"))
        #expect(throws: TransportError.self) { try service.json(targetPrefix: "X", operation: "Y", body: []) }
    }
}
