import Foundation
import Logging

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

    /// Credentials at hand (an assumed role's source).
    public init(_ credentials: AWSCredentials) {
        self.credentials = credentials
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

/// The shared credentials file (`~/.aws/credentials`) and config file (`~/.aws/config`), one profile:
/// an assumed role (`role_arn` with `source_profile` or `credential_source`, through a signed STS
/// `AssumeRole`), static keys, or a `credential_process`, in the SDKs' order. A profile that needs
/// what this chain cannot do (SSO) is an error naming it, never skipped in silence.
public struct SharedFileCredentialProvider: CredentialProvider {
    public let name = "shared credentials file"
    let credentialsPath: String
    let configPath: String
    /// The profile's name (`AWS_PROFILE`, else `default`).
    let profile: String
    let environment: [String: String]
    /// For assumed roles: STS's base URL and signing region, and the HTTP client.
    let sts: (endpoint: String, region: String)?
    let transport: (any HTTPTransport)?

    /// Paths and profile as the AWS CLI chooses them (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `AWS_PROFILE`).
    /// - Parameter sts: where assume-role profiles get their credentials; nil: such a profile is an error.
    public init(environment: [String: String], sts: (endpoint: String, region: String)? = nil, transport: (any HTTPTransport)? = nil) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        profile = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
        self.environment = environment
        self.sts = sts
        self.transport = transport
    }

    public func load() throws -> AWSCredentials? {
        try load(profile, chain: [])
    }

    /// A profile's settings: the credentials file's [name] over the config file's [profile name] ([default] in both).
    func settings(of profile: String) -> [String: String]? {
        let fromCredentials = Self.section(profile, in: credentialsPath)
        let fromConfig = Self.section(profile == "default" ? "default" : "profile " + profile, in: configPath)
        guard fromCredentials != nil || fromConfig != nil else { return nil }
        return (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentialsFile in credentialsFile }
    }

    /// - Parameter chain: the profiles that led here through `source_profile` (a loop is an error).
    private func load(_ profile: String, chain: [String]) throws -> AWSCredentials? {
        guard let values = settings(of: profile) else {
            if chain.isEmpty { return nil }
            throw CredentialsError("profile \(chain.last!) names source_profile \(profile), which does not exist")
        }
        let keys = StaticCredentialProvider(
            accessKeyId: values["aws_access_key_id"], secretAccessKey: values["aws_secret_access_key"], sessionToken: values["aws_session_token"]
        ).credentials
        if let roleArn = values["role_arn"] {
            guard chain.count < 5, !chain.contains(profile) else {
                throw CredentialsError("profiles \((chain + [profile]).joined(separator: " -> ")) name each other as source_profile")
            }
            let source: AWSCredentials
            if let sourceProfile = values["source_profile"] {
                // A profile naming itself takes its own keys as the source (as the SDKs do).
                if sourceProfile == profile, let keys {
                    source = keys
                } else {
                    guard let loaded = try load(sourceProfile, chain: chain + [profile]) else {
                        throw CredentialsError("profile \(profile): source_profile \(sourceProfile) has no credentials")
                    }
                    source = loaded
                }
            } else if let credentialSource = values["credential_source"] {
                source = try sourceCredentials(credentialSource, profile: profile)
            } else {
                throw CredentialsError("profile \(profile) has role_arn but neither source_profile nor credential_source")
            }
            return try assumeRole(roleArn, with: source, profile: values)
        }
        if let keys { return keys }
        if let command = values["credential_process"] {
            return try ProcessCredentials.run(command, profile: profile)
        }
        for key in ["sso_session", "sso_start_url", "web_identity_token_file"] where values[key] != nil {
            throw CredentialsError(
                "profile \(profile) uses \(key), which livestreamd cannot use; give the profile keys, a role_arn, or a credential_process, or use AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        guard chain.isEmpty else { throw CredentialsError("profile \(profile) has no credentials") }
        return nil
    }

    /// `credential_source`: the environment's keys, the instance's role or the container's.
    private func sourceCredentials(_ name: String, profile: String) throws -> AWSCredentials {
        let provider: any CredentialProvider
        switch name {
        case "Environment": provider = EnvironmentCredentialProvider(environment: environment)
        case "Ec2InstanceMetadata" where transport != nil: provider = InstanceMetadataCredentialProvider(environment: environment, transport: transport!)
        case "EcsContainer" where transport != nil: provider = ContainerCredentialProvider(environment: environment, transport: transport!)
        default: throw CredentialsError("profile \(profile): credential_source \(name) is not one of Environment, Ec2InstanceMetadata, EcsContainer")
        }
        guard let credentials = try provider.load() else {
            throw CredentialsError("profile \(profile): credential_source \(name) has no credentials")
        }
        return credentials
    }

    /// STS `AssumeRole`, signed with the source credentials through the same signer and client as every call.
    private func assumeRole(_ roleArn: String, with source: AWSCredentials, profile values: [String: String]) throws -> AWSCredentials {
        guard let sts, let transport else { throw CredentialsError("profile \(profile) has role_arn, and no STS endpoint was given") }
        let service = AWSService(
            name: "sts", endpoints: AWSEndpoints(region: sts.region, perService: ["sts": sts.endpoint]),
            credentials: CredentialChain(providers: [StaticCredentialProvider(source)]), transport: transport,
            retry: RetryPolicy(), logger: Logger(label: "livestreamd"))
        var form = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
            ("RoleSessionName", values["role_session_name"] ?? "livestreamd-\(Int(Date().timeIntervalSince1970))"),
        ]
        if let externalId = values["external_id"] { form.append(("ExternalId", externalId)) }
        if let duration = values["duration_seconds"] { form.append(("DurationSeconds", duration)) }
        let answer: HTTPResponse
        do {
            answer = try service.send(method: "POST", path: "/", headers: [STSCredentials.formType], body: STSCredentials.form(form))
        } catch let error as AWSError {
            throw CredentialsError("STS AssumeRole of \(roleArn) for profile \(profile) failed: \(error.code)")
        }
        return try STSCredentials.parse(answer.body, what: "AssumeRole of \(roleArn)")
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

/// Container credentials: ECS tasks (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`), and
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity, ECS Anywhere) with the token from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at every load: it rotates) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. As the SDKs restrict it, a full URI over plain HTTP
/// must name a loopback host or the ECS/EKS agent addresses: the token must not leave the host.
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
            guard Self.isAllowed(full) else {
                throw CredentialsError("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback host or the ECS/EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)")
            }
            url = full
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CredentialsError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            headers.append(("Authorization", token))
        }
        let response = try transport.send(HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(2)))
        guard response.status == 200 else { throw CredentialsError("container metadata answered \(response.status)") }
        return try MetadataCredentials.parse(response.body, source: name)
    }

    /// https anywhere; http only to loopback or the container agents' link-local addresses.
    static func isAllowed(_ url: String) -> Bool {
        if url.lowercased().hasPrefix("https://") { return true }
        guard url.lowercased().hasPrefix("http://") else { return false }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var host = String(authority.split(separator: "@").last ?? "")
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        let lowered = host.lowercased()
        if ["localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"].contains(lowered) { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// EC2 instance role credentials through IMDSv2 (session token first, then the role, then its keys).
///
/// When the token cannot be had (the PUT times out, as from a container behind a hop limit
/// of 1, or answers 404/405), the requests go without it (IMDSv1), as botocore falls back,
/// unless `AWS_EC2_METADATA_V1_DISABLED=true`. A 403 to the PUT means metadata is off.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public let name = "instance metadata"
    let endpoint: String
    let transport: any HTTPTransport
    let disabled: Bool
    let v1Disabled: Bool

    public init(environment: [String: String], transport: any HTTPTransport) {
        v1Disabled = environment["AWS_EC2_METADATA_V1_DISABLED"]?.lowercased() == "true"
        endpoint = Self.endpoint(environment)
        self.transport = transport
        disabled = Self.isDisabled(environment)
    }

    /// The metadata service's base URL (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the link-local address), no trailing slash.
    static func endpoint(_ environment: [String: String]) -> String {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        return endpoint
    }

    /// `AWS_EC2_METADATA_DISABLED=true`: never ask the metadata service.
    static func isDisabled(_ environment: [String: String]) -> Bool {
        environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
    }

    public func load() throws -> AWSCredentials? {
        guard !disabled else { return nil }
        var token: [(String, String)] = []
        do {
            let session = try transport.send(HTTPRequest(
                method: "PUT", url: endpoint + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout: .seconds(1)))
            switch session.status {
            case 200: token = [("X-aws-ec2-metadata-token", String(decoding: session.body, as: UTF8.self))]
            case 404 where !v1Disabled, 405 where !v1Disabled: break
            default: return nil
            }
        } catch is TransportError {
            guard !v1Disabled else { return nil }
        }
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let roles: HTTPResponse
        do {
            roles = try transport.send(HTTPRequest(method: "GET", url: base, headers: token, timeout: .seconds(1)))
        } catch is TransportError where token.isEmpty {
            return nil  // not on EC2 (neither version answers)
        }
        guard roles.status == 200, let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            return nil  // an instance without a role
        }
        let keys = try transport.send(HTTPRequest(method: "GET", url: base + role, headers: token, timeout: .seconds(1)))
        guard keys.status == 200 else { throw CredentialsError("instance metadata answered \(keys.status) for the role's credentials") }
        return try MetadataCredentials.parse(keys.body, source: name)
    }
}

/// A profile's `credential_process`: the command's standard output is a JSON document
/// (`Version` 1, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`).
enum ProcessCredentials {
    struct Document: Decodable {
        let Version: Int
        let AccessKeyId: String
        let SecretAccessKey: String
        let SessionToken: String?
        let Expiration: String?
    }

    static func run(_ command: String, profile: String, timeout: Duration = .seconds(30)) throws -> AWSCredentials {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CredentialsError("profile \(profile): cannot run its credential_process")
        }
        // A credentials document is far smaller than a pipe's buffer: wait for the exit, then read.
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            process.terminate()
            throw CredentialsError("profile \(profile): its credential_process did not finish in time")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else {
            throw CredentialsError("profile \(profile): its credential_process exited with \(process.terminationStatus)")
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: data), document.Version == 1 else {
            throw CredentialsError("profile \(profile): its credential_process did not print a Version 1 credentials document")
        }
        let expiration = document.Expiration.flatMap { ISO8601DateFormatter().date(from: $0) }
        return AWSCredentials(accessKeyId: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.SessionToken, expiration: expiration)
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

/// Web identity (EKS IRSA and other OIDC federations): `AWS_WEB_IDENTITY_TOKEN_FILE` and
/// `AWS_ROLE_ARN` (`AWS_ROLE_SESSION_NAME` optional) exchanged for the role's temporary
/// credentials with STS `AssumeRoleWithWebIdentity`, which needs no signature. The token file
/// is read at every load (the cluster rotates it); the chain refreshes before expiry.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let name = "web identity"
    let tokenFile: String?
    let roleArn: String?
    let sessionName: String
    /// STS base URL (`aws.endpoints.sts`, `aws.endpoint`, or the region's).
    let stsEndpoint: String
    let transport: any HTTPTransport

    public init(environment: [String: String], stsEndpoint: String, transport: any HTTPTransport) {
        tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        roleArn = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        sessionName = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "livestreamd-\(Int(Date().timeIntervalSince1970))"
        self.stsEndpoint = stsEndpoint
        self.transport = transport
    }

    public func load() throws -> AWSCredentials? {
        guard let tokenFile else { return nil }
        guard let roleArn else { throw CredentialsError("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not") }
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw CredentialsError("cannot read AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile)")
        }
        let form = STSCredentials.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn), ("RoleSessionName", sessionName),
            ("WebIdentityToken", token.trimmingCharacters(in: .whitespacesAndNewlines)),
        ])
        let response = try transport.send(HTTPRequest(method: "POST", url: stsEndpoint + "/", headers: [STSCredentials.formType], body: form, timeout: .seconds(10)))
        guard response.status == 200 else {
            let code = XMLScan.text(of: "Code", in: String(decoding: response.body, as: UTF8.self)) ?? "HTTP \(response.status)"
            throw CredentialsError("STS AssumeRoleWithWebIdentity for \(roleArn) failed: \(code)")
        }
        return try STSCredentials.parse(response.body, what: "AssumeRoleWithWebIdentity for \(roleArn)")
    }
}

/// STS's query protocol: the form a request carries, and the `Credentials` of its answer
/// (AssumeRole, AssumeRoleWithWebIdentity).
enum STSCredentials {
    static let formType = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")

    /// `name=value&...`, form-encoded.
    static func form(_ fields: [(String, String)]) -> [UInt8] {
        Array(fields.map { "\($0.0)=\(SignatureV4.uriEncode($0.1, keepSlash: false))" }.joined(separator: "&").utf8)
    }

    static func parse(_ body: [UInt8], what: String) throws -> AWSCredentials {
        let text = String(decoding: body, as: UTF8.self)
        guard let keyId = XMLScan.text(of: "AccessKeyId", in: text), let secret = XMLScan.text(of: "SecretAccessKey", in: text) else {
            throw CredentialsError("STS \(what): the answer holds no credentials")
        }
        let expiration = XMLScan.text(of: "Expiration", in: text).flatMap { ISO8601DateFormatter().date(from: $0) }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: XMLScan.text(of: "SessionToken", in: text), expiration: expiration)
    }
}
