import Foundation

/// A source of AWS credentials.
public protocol CredentialProvider: Sendable {
    /// Short name for messages (`environment`, `shared file`, ...).
    var name: String { get }
    /// The credentials this source holds now, or nil when it has none.
    func load() throws -> AWSCredentials?
}

/// Credentials given in the configuration.
public struct StaticCredentialProvider: CredentialProvider {
    public let name = "configuration"
    let credentials: AWSCredentials?

    public init(accessKeyId: String?, secretAccessKey: String?, sessionToken: String?) {
        if let accessKeyId, !accessKeyId.isEmpty, let secretAccessKey, !secretAccessKey.isEmpty {
            credentials = AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken.flatMap { $0.isEmpty ? nil : $0 })
        } else {
            credentials = nil
        }
    }

    public func load() throws -> AWSCredentials? { credentials }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let name = "environment"
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func load() throws -> AWSCredentials? {
        StaticCredentialProvider(
            accessKeyId: environment["AWS_ACCESS_KEY_ID"], secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"],
            sessionToken: environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"]
        ).credentials
    }
}

/// The shared credentials file (`~/.aws/credentials`) and config file (`~/.aws/config`), one profile.
public struct SharedFileCredentialProvider: CredentialProvider {
    public let name = "shared credentials file"
    let credentialsPath: String
    let configPath: String
    /// The profile's name (`AWS_PROFILE`, else `default`).
    let profile: String

    /// Paths and profile as the AWS CLI chooses them (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `AWS_PROFILE`).
    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        profile = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
    }

    public func load() throws -> AWSCredentials? {
        // The credentials file's [name] wins over the config file's [profile name] ([default] in both).
        let fromCredentials = Self.section(profile, in: credentialsPath)
        let fromConfig = Self.section(profile == "default" ? "default" : "profile " + profile, in: configPath)
        for values in [fromCredentials, fromConfig].compactMap({ $0 }) {
            if let credentials = StaticCredentialProvider(
                accessKeyId: values["aws_access_key_id"], secretAccessKey: values["aws_secret_access_key"], sessionToken: values["aws_session_token"]
            ).credentials {
                return credentials
            }
        }
        return nil
    }

    /// The `key = value` pairs of one `[section]` of an INI file.
    static func section(_ name: String, in path: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var current: String?
        var values: [String: String] = [:]
        var found = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if current == name { found = true }
                continue
            }
            guard current == name, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return found ? values : nil
    }
}

/// ECS task credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `..._FULL_URI`).
public struct ContainerCredentialProvider: CredentialProvider {
    public let name = "container metadata"
    let environment: [String: String]
    let transport: any HTTPTransport

    public init(environment: [String: String], transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    public func load() throws -> AWSCredentials? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] { headers.append(("Authorization", token)) }
        let response = try transport.send(HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(2)))
        guard response.status == 200 else { throw CredentialsError("container metadata answered \(response.status)") }
        return try MetadataCredentials.parse(response.body, source: name)
    }
}

/// EC2 instance role credentials through IMDSv2 (session token first, then the role, then its keys).
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public let name = "instance metadata"
    let endpoint: String
    let transport: any HTTPTransport
    let disabled: Bool

    public init(environment: [String: String], transport: any HTTPTransport) {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.transport = transport
        disabled = environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
    }

    public func load() throws -> AWSCredentials? {
        guard !disabled else { return nil }
        let session: HTTPResponse
        do {
            session = try transport.send(HTTPRequest(
                method: "PUT", url: endpoint + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout: .seconds(1)))
        } catch is TransportError {
            return nil  // not on EC2
        }
        guard session.status == 200 else { return nil }
        let token = [("X-aws-ec2-metadata-token", String(decoding: session.body, as: UTF8.self))]
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let roles = try transport.send(HTTPRequest(method: "GET", url: base, headers: token, timeout: .seconds(1)))
        guard roles.status == 200, let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            return nil  // an instance without a role
        }
        let keys = try transport.send(HTTPRequest(method: "GET", url: base + role, headers: token, timeout: .seconds(1)))
        guard keys.status == 200 else { throw CredentialsError("instance metadata answered \(keys.status) for the role's credentials") }
        return try MetadataCredentials.parse(keys.body, source: name)
    }
}

/// The JSON both metadata services answer: AccessKeyId, SecretAccessKey, Token, Expiration.
enum MetadataCredentials {
    struct Document: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
    }

    static func parse(_ body: [UInt8], source: String) throws -> AWSCredentials {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(body)) else {
            throw CredentialsError("\(source) answered something that is not a credentials document")
        }
        let formatter = ISO8601DateFormatter()
        let expiration = document.Expiration.flatMap { formatter.date(from: $0) }
        return AWSCredentials(accessKeyId: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.Token, expiration: expiration)
    }
}

/// Credentials could not be found or loaded. Messages name sources, never secrets.
public struct CredentialsError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
