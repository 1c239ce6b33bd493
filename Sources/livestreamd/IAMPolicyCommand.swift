import AWSClient
import CloudFrontCDN
import DynamoDBStorage
import Foundation
import LivestreamCore
import MediaLiveMedia
import S3Archive

/// `livestreamd iam-policy [--account ID]`: the least-privilege IAM policies of the configured backends.
///
/// Prints one JSON object: `livestreamd` (the policy of the identity the service runs as) and,
/// with `media.backend = medialive`, `medialive_role` (`trust_policy` and `policy` of the role
/// MediaLive assumes). Resources are scoped to the configured table, bucket and prefix,
/// distribution and parameter path; the account is `*` unless given. Nothing is called: no
/// credentials are needed.
enum IAMPolicyCommand {
    static func run(configuration: Configuration, account: String?, environment: [String: String]) -> Int32 {
        let region = RegionChain.resolve(configured: configuration.string("aws.region"), environment: environment, transport: NoNetwork())?.region ?? "*"
        let scope = ARNScope(region: region, account: account ?? "*")
        let backend = { (seam: PluginSeam) in configuration.string("\(seam.rawValue).backend") ?? seam.defaultBackend }

        var service: [IAMStatement] = []
        var role: [IAMStatement] = []
        if backend(.storage) == "dynamodb" { service += DynamoDBStoragePlugin.iamStatements(configuration, scope: scope) }
        if backend(.cdn) == "cloudfront" { service += CloudFrontPlugin.iamStatements(configuration, scope: scope) }
        if backend(.archive) == "s3" { service += S3ArchivePlugin.iamStatements(configuration, scope: scope) }
        if backend(.media) == "medialive" {
            service += MediaLivePlugin.iamStatements(configuration, scope: scope)
            role = MediaLivePlugin.mediaLiveRoleStatements(configuration, scope: scope) + S3ArchivePlugin.mediaLiveRoleStatements(configuration, scope: scope)
        }
        guard !service.isEmpty else {
            FileHandle.standardError.write(Data("livestreamd: no AWS backend is configured; no IAM policy is needed\n".utf8))
            print("{}")
            return 0
        }
        var document: [String: JSONValue] = ["livestreamd": IAMPolicy(service).jsonValue]
        if !role.isEmpty {
            document["medialive_role"] = ["trust_policy": MediaLivePlugin.mediaLiveRoleTrust.jsonValue, "policy": IAMPolicy(role).jsonValue]
        }
        print(JSONValue.object(document).jsonString)
        return 0
    }

    /// The region comes from settings, the environment or a profile; the instance's metadata is not asked.
    private struct NoNetwork: HTTPTransport {
        func send(_ request: HTTPRequest) throws -> HTTPResponse { throw TransportError(.connection, "not asked") }
    }
}
