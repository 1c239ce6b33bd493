import Foundation

/// Where the AWS region comes from, in the AWS SDKs' order.
///
/// `aws.region` (or `LIVESTREAM_AWS_REGION`), then `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// the profile's `region` in the shared config file (`AWS_CONFIG_FILE`, `AWS_PROFILE`;
/// the credentials file's section too, as the CLI reads it), then the instance's region
/// from EC2 instance metadata (IMDSv2, IMDSv1 when the token cannot be had, e.g. from a
/// container with hop limit 1; skipped with `AWS_EC2_METADATA_DISABLED=true`).
public enum RegionChain {
    /// The region and where it was found; nil when no source names one.
    public static func resolve(configured: String?, environment: [String: String], transport: any HTTPTransport) -> (region: String, source: String)? {
        if let configured, !configured.isEmpty { return (configured, "aws.region") }
        for variable in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let region = environment[variable], !region.isEmpty { return (region, variable) }
        }
        let files = SharedFileCredentialProvider(environment: environment)
        let profile = files.profile == "default" ? "default" : "profile " + files.profile
        for (section, path) in [(profile, files.configPath), (files.profile, files.credentialsPath)] {
            if let region = SharedFileCredentialProvider.section(section, in: path)?["region"], !region.isEmpty {
                return (region, "profile \(files.profile) in \(path)")
            }
        }
        if let region = instanceRegion(environment: environment, transport: transport) { return (region, "instance metadata") }
        return nil
    }

    static func instanceRegion(environment: [String: String], transport: any HTTPTransport) -> String? {
        guard !InstanceMetadataCredentialProvider.isDisabled(environment) else { return nil }
        let endpoint = InstanceMetadataCredentialProvider.endpoint(environment)
        var headers: [(String, String)] = []
        if let session = try? transport.send(HTTPRequest(
            method: "PUT", url: endpoint + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "60")], timeout: .seconds(1))),
            session.status == 200
        {
            headers = [("X-aws-ec2-metadata-token", String(decoding: session.body, as: UTF8.self))]
        }
        guard let answer = try? transport.send(HTTPRequest(method: "GET", url: endpoint + "/latest/meta-data/placement/region", headers: headers, timeout: .seconds(1))),
            answer.status == 200
        else { return nil }
        let region = String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // A region name is lowercase letters, digits and dashes (us-east-1, eu-central-2, us-gov-west-1).
        guard !region.isEmpty, region.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }) else { return nil }
        return region
    }
}
