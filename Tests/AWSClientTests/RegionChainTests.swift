@testable import AWSClient
import Foundation
import TestSupport
import Testing

struct RegionChainTests {
    let folder = TemporaryFolder(prefix: "region")
    var directory: String { folder.path }

    func write(_ text: String, _ name: String) throws -> String { try folder.write(text, name) }

    /// No metadata service: every IMDS request fails as on a host outside EC2.
    let offEC2 = ScriptedTransport([])

    @Test func configurationThenEnvironmentThenProfileInTheSDKsOrder() throws {
        let config = try write("[default]\nregion = ap-south-1\n[profile work]\nregion = eu-west-1\n", "config")
        let files = ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": directory + "/none", "HOME": directory]
        func resolve(_ configured: String?, _ environment: [String: String]) -> String? {
            RegionChain.resolve(configured: configured, environment: files.merging(environment) { $1 }, transport: offEC2)?.region
        }
        #expect(resolve("us-west-2", ["AWS_REGION": "eu-north-1"]) == "us-west-2")
        #expect(resolve(nil, ["AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "sa-east-1"]) == "eu-north-1")
        #expect(resolve(nil, ["AWS_DEFAULT_REGION": "sa-east-1"]) == "sa-east-1")
        #expect(resolve(nil, ["AWS_PROFILE": "work"]) == "eu-west-1")
        #expect(resolve(nil, [:]) == "ap-south-1")
        #expect(resolve(nil, ["AWS_PROFILE": "missing", "AWS_EC2_METADATA_DISABLED": "true"]) == nil)
    }

    @Test func theInstanceRegionWithTheIMDSv2Token() throws {
        let transport = ScriptedTransport([
            ("PUT http://imds.test/latest/api/token", .success(HTTPResponse(status: 200, body: Array("t0k".utf8)))),
            ("GET http://imds.test/latest/meta-data/placement/region", .success(HTTPResponse(status: 200, body: Array("eu-central-2\n".utf8)))),
        ])
        let environment = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test/", "HOME": directory]
        #expect(RegionChain.resolve(configured: nil, environment: environment, transport: transport)?.region == "eu-central-2")
        #expect(transport.seen.withLock { $0.last?.headers.contains { $0 == ("X-aws-ec2-metadata-token", "t0k") } } == true)
    }

    @Test func theInstanceRegionWithoutATokenWhenThePutIsNotAnswered() throws {
        // Docker on EC2 with hop limit 1: the token PUT never gets its answer; IMDSv1 still does.
        let transport = ScriptedTransport([
            ("GET http://imds.test/latest/meta-data/placement/region", .success(HTTPResponse(status: 200, body: Array("us-east-2".utf8)))),
        ])
        let environment = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test", "HOME": directory]
        #expect(RegionChain.resolve(configured: nil, environment: environment, transport: transport)?.region == "us-east-2")
        let garbage = ScriptedTransport([
            ("GET http://imds.test/latest/meta-data/placement/region", .success(HTTPResponse(status: 200, body: Array("<html>proxy</html>".utf8)))),
        ])
        #expect(RegionChain.resolve(configured: nil, environment: environment, transport: garbage) == nil)
    }
}
