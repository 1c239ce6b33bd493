import AWSClient
import AWSTestSupport
import Foundation
import Testing

/// IMDSv2 over real HTTP (URLSession) against a small metadata emulator on loopback.
struct InstanceMetadataIntegrationTests {
    @Test func loadsRoleCredentialsWithTheSessionToken() throws {
        let port = MotoServer.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", SignatureV4Tests.fixtures.appendingPathComponent("imds_server.py").path, String(port)]
        try server.run()
        defer { MotoServer.stop(server) }
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], transport: URLSessionTransport())
        var credentials: AWSCredentials?
        for _ in 0..<50 where credentials == nil {
            credentials = try? provider.load()
            if credentials == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let loaded = try #require(credentials)
        #expect(loaded.accessKeyId == "ASIAIMDS" && loaded.secretAccessKey == "imds-secret" && loaded.sessionToken == "imds-token")
        #expect(loaded.expiration == ISO8601DateFormatter().date(from: "2099-01-01T00:00:00Z"))
    }
}

/// URLSessionTransport against a server whose kept-alive connection dies under a request.
struct KeptAliveConnectionTests {
    @Test(arguments: [true, false]) func aRequestWhoseConnectionDiesGoesAgainWithItsBody(repeatable: Bool) throws {
        let port = MotoServer.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", SignatureV4Tests.fixtures.appendingPathComponent("dying_keepalive_server.py").path, String(port)]
        try server.run()
        defer { MotoServer.stop(server) }
        let transport = URLSessionTransport()
        func post(_ body: String) throws -> HTTPResponse {
            try transport.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/", body: Array(body.utf8), timeout: .seconds(2), repeatable: repeatable))
        }
        var first: HTTPResponse?
        for _ in 0..<50 where first == nil {
            first = try? post("hello")
            if first == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(first.map { String(decoding: $0.body, as: UTF8.self) } == "got 5")
        if repeatable {
            // On the kept connection, which dies: libcurl sends it again, body and all, well within the attempt's time.
            #expect(String(decoding: try post("hello again").body, as: UTF8.self) == "got 11")
        } else {
            // Each write has a connection of its own: the server's first is already closed, nothing dies under it.
            #expect(String(decoding: try post("hello again").body, as: UTF8.self) == "got 11")
            #expect(String(decoding: try post("and again").body, as: UTF8.self) == "got 9")
        }
    }
}
