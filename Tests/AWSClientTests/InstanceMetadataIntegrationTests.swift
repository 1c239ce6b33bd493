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
