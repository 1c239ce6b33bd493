import AWSClient
import Foundation
import LivestreamCore

/// Registers media plugin `medialive`.
public enum MediaLivePlugin {
    public static let options = [
        ConfigOption("media.medialive.role_arn", .string, default: nil, help: "IAM role MediaLive assumes (reads the SSM passwords, writes the S3 archive)"),
        ConfigOption("media.medialive.input_security_group", .string, default: nil, help: "input security group id of every RTMP_PUSH input"),
        ConfigOption("media.medialive.channel_template", .string, default: nil, help: "JSON file of the channel template (unset = the shipped ABR ladder; see channel-template.json)"),
        ConfigOption("media.medialive.ingest_app", .string, default: "live", help: "first part of the inputs' stream names (<app>/<key>)"),
        ConfigOption("media.medialive.refresh_seconds", .integer(1...3600), default: "30", help: "seconds between channel state refreshes and pending-cleanup rounds"),
        ConfigOption("media.medialive.speke_url", .string, default: nil, help: "SPEKE key provider URL; set to encrypt HLS and rotate keys every key_rotation_interval"),
        ConfigOption("media.medialive.speke_role_arn", .string, default: nil, help: "role MediaPackage assumes to call the SPEKE provider"),
        ConfigOption(
            "media.medialive.resource_names", .choice(["stream", "id"]), default: "stream",
            help: "name MediaLive channels and inputs after the stream's name, MediaPackage resources after its description (stream, as the old deployment did), or livestreamd-<id> (id)"),
        ConfigOption(
            "media.medialive.hls_package", .string, default: nil,
            help: "JSON file of origin endpoint hlsPackage fields (MediaPackage's REST names) over the defaults, which are the old deployment's: EVENT playlists, 60-s window, SCTE35_ENHANCED ad markers, I-frame-only stream"),
        ConfigOption(
            "media.medialive.create_timeout_seconds", .integer(2...3600), default: "120",
            help: "time a stream create may take, record write included; what a create older than twice this left behind (it failed, or its process died) is removed"),
    ] + AWSSettings.options

    /// What livestreamd needs: build, run and remove MediaLive inputs and channels (tagged on creation),
    /// MediaPackage channels and endpoints, the ingest passwords under `/Medialive_api/`, and hand
    /// MediaLive (and MediaPackage, for SPEKE) their roles. MediaLive and MediaPackage ids are made
    /// by AWS at create time and the List calls take no resource, so those actions are on `*`.
    public static func iamStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        var statements = [
            IAMStatement(
                sid: "MediaLive",
                actions: [
                    "medialive:CreateInput", "medialive:CreateChannel", "medialive:CreateTags", "medialive:DescribeChannel", "medialive:UpdateChannel",
                    "medialive:StartChannel", "medialive:StopChannel", "medialive:DeleteChannel", "medialive:DeleteInput", "medialive:ListChannels",
                    "medialive:ListInputs", "medialive:ListAlerts", "medialive:DescribeThumbnails",
                ], resources: ["*"]),
            IAMStatement(
                sid: "MediaPackage",
                actions: [
                    "mediapackage:CreateChannel", "mediapackage:DescribeChannel", "mediapackage:DeleteChannel", "mediapackage:CreateOriginEndpoint",
                    "mediapackage:DescribeOriginEndpoint", "mediapackage:UpdateOriginEndpoint", "mediapackage:DeleteOriginEndpoint", "mediapackage:TagResource",
                ], resources: ["*"]),
            IAMStatement(
                sid: "IngestPasswords", actions: ["ssm:PutParameter", "ssm:DeleteParameters"],
                resources: [scope.arn("ssm", "parameter\(MediaLivePipeline.parameterPrefix)*")]),
            IAMStatement(
                sid: "PassMediaLiveRole", actions: ["iam:PassRole"],
                resources: [configuration.string("media.medialive.role_arn") ?? "<media.medialive.role_arn>"],
                condition: ["StringEquals": ["iam:PassedToService": "medialive.amazonaws.com"]]),
        ]
        if let speke = configuration.string("media.medialive.speke_role_arn"), !speke.isEmpty {
            statements.append(IAMStatement(
                sid: "PassSpekeRole", actions: ["iam:PassRole"], resources: [speke],
                condition: ["StringEquals": ["iam:PassedToService": "mediapackage.amazonaws.com"]]))
        }
        return statements
    }

    /// What the role MediaLive assumes (`media.medialive.role_arn`) needs: read the ingest passwords
    /// and write the channel's logs; the archive's own statements come from the archive plugin.
    public static func mediaLiveRoleStatements(_ configuration: Configuration, scope: ARNScope) -> [IAMStatement] {
        [
            IAMStatement(
                sid: "ReadIngestPasswords", actions: ["ssm:GetParameter", "ssm:GetParameters"],
                resources: [scope.arn("ssm", "parameter\(MediaLivePipeline.parameterPrefix)*")]),
            IAMStatement(
                sid: "ChannelLogs",
                actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
                resources: [scope.arn("logs", "log-group:ElementalMediaLive*")]),
        ]
    }

    /// Who may assume the MediaLive role.
    public static let mediaLiveRoleTrust = IAMPolicy([
        IAMStatement(sid: "MediaLiveAssumesThisRole", actions: ["sts:AssumeRole"], principalServices: ["medialive.amazonaws.com"])
    ])

    public static func register(in registry: inout PluginRegistry) {
        registry.registerMedia("medialive", summary: "AWS MediaLive + MediaPackage, ingest passwords in SSM, archives to S3", options: options) { context in
            guard context.backends[.archive] == "s3" else {
                throw ConfigurationError("needs archive.backend = s3 (MediaLive archives to S3)")
            }
            guard let store = context.store, let archive = context.archive else {
                throw ConfigurationError("needs the storage and archive plugins")
            }
            let config = context.configuration
            let template: ChannelTemplate
            if let path = config.string("media.medialive.channel_template"), !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigurationError("cannot read media.medialive.channel_template \(path)")
                }
                template = try ChannelTemplate(json: Array(data), source: path)
            } else {
                template = try ChannelTemplate.shipped()
            }
            let speke = (config.string("media.medialive.speke_url"), config.string("media.medialive.speke_role_arn"))
            guard (speke.0 == nil) == (speke.1 == nil) else {
                throw ConfigurationError("set both media.medialive.speke_url and media.medialive.speke_role_arn, or neither")
            }
            var hlsPackage: [String: JSONValue] = [:]
            if let path = config.string("media.medialive.hls_package"), !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path), case .object(let fields)? = try? JSONValue.parse(Array(data)) else {
                    throw ConfigurationError("media.medialive.hls_package \(path) is not a readable JSON object")
                }
                if fields["encryption"] != nil { throw ConfigurationError("media.medialive.hls_package: encryption comes from media.medialive.speke_url") }
                hlsPackage = fields
            }
            let settings = MediaLivePipeline.Settings(
                roleArn: try config.requiredString("media.medialive.role_arn"),
                inputSecurityGroup: try config.requiredString("media.medialive.input_security_group"),
                ingestApp: try config.requiredString("media.medialive.ingest_app"), spekeURL: speke.0, spekeRoleArn: speke.1,
                namesFromStream: config.string("media.medialive.resource_names") != "id", hlsPackage: hlsPackage,
                createTimeoutSeconds: Int64(config.int("media.medialive.create_timeout_seconds")))
            let aws = try AWSSettings.shared(configuration: config, logger: context.logger)
            let services = MediaServices(
                medialive: aws.service("medialive", logger: context.logger), mediapackage: aws.service("mediapackage", logger: context.logger),
                ssm: aws.service("ssm", logger: context.logger))
            return MediaLivePipeline(
                settings: settings, template: template, services: services, store: store, archive: archive,
                refreshInterval: .seconds(config.int("media.medialive.refresh_seconds")), logger: context.logger)
        }
    }
}
