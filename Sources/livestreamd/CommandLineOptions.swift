/// `livestreamd [serve|check-config|plugins|iam-policy] [--config FILE]`.
struct CommandLineOptions {
    enum Command: String {
        case serve
        case checkConfig = "check-config"
        case plugins
        case storageCopy = "storage copy"
        case iamPolicy = "iam-policy"
        case nginxConfig = "nginx-config"
        case doctor
        case version = "--version"
        case help
    }

    var command: Command = .serve
    var configPath: String?
    /// `storage copy` source and target configuration files.
    var copyFrom: String?
    var copyTo: String?
    /// `iam-policy --account`: the AWS account id in the printed ARNs.
    var account: String?
    /// `nginx-config --out`: where the snippets go.
    var outDirectory: String?
    /// `doctor --nginx-user`, `--nginx-conf`.
    var nginxUser = "www-data"
    var nginxConf: String?

    static let usage = """
        usage: livestreamd [serve | check-config | plugins] [--config FILE]
               livestreamd iam-policy [--account ID] [--config FILE]
               livestreamd nginx-config --out DIR [--config FILE]
               livestreamd doctor [--nginx-user www-data] [--nginx-conf FILE] [--config FILE]
               livestreamd storage copy --from CONFIG_A --to CONFIG_B

          serve          run the FastCGI service (default)
          --version      print the version
          check-config   check the configuration as serve would (every problem at once, nothing created
                         or changed), then print the settings (secrets masked); exit 2 on a problem
          plugins        list the plugins of every seam and their options
          nginx-config   write nginx's three livestreamd snippets into DIR from this configuration
                         (socket, ports, folders, prefix, body limit, archiver, token): nothing else
          doctor         check the deployment as nginx's workers meet it (socket, folders, archiver,
                         token file as --nginx-user; nginx -T; the backends); exit 1 on a problem
          iam-policy     print the least-privilege IAM policies of the configured AWS backends
                         (JSON: livestreamd's own, and the MediaLive role's with its trust policy)
          storage copy   copy every record from the storage of CONFIG_A to that of CONFIG_B
                         (configuration files; idempotent; prints counts and failures)

        The configuration file is JSON; every key can be overridden by LIVESTREAM_<KEY>
        (upper case, '.' -> '_'). LIVESTREAM_CONFIG names the file when --config is absent.
        """

    init(arguments: [String], environment: [String: String]) throws(ConfigurationFailure) {
        var rest = arguments.dropFirst()
        configPath = environment["LIVESTREAM_CONFIG"]
        while let argument = rest.popFirst() {
            switch argument {
            case "--config", "-c":
                guard let path = rest.popFirst() else { throw ConfigurationFailure("--config needs a file") }
                configPath = path
            case "--help", "-h", "help":
                command = .help
            case "storage":
                guard rest.popFirst() == "copy" else { throw ConfigurationFailure("usage: livestreamd storage copy --from CONFIG_A --to CONFIG_B") }
                command = .storageCopy
            case "--from":
                copyFrom = rest.popFirst()
            case "--to":
                copyTo = rest.popFirst()
            case "--nginx-user":
                guard let name = rest.popFirst() else { throw ConfigurationFailure("--nginx-user needs a user name") }
                nginxUser = name
            case "--nginx-conf":
                guard let path = rest.popFirst() else { throw ConfigurationFailure("--nginx-conf needs a file") }
                nginxConf = path
            case "--out":
                guard let directory = rest.popFirst() else { throw ConfigurationFailure("--out needs a directory") }
                outDirectory = directory
            case "--account":
                guard let id = rest.popFirst(), id.count == 12, id.allSatisfy(\.isNumber) else { throw ConfigurationFailure("--account needs a 12-digit AWS account id") }
                account = id
            default:
                guard let parsed = Command(rawValue: argument) else { throw ConfigurationFailure("unknown argument '\(argument)'\n\n\(CommandLineOptions.usage)") }
                command = parsed
            }
        }
    }
}

struct ConfigurationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
