@testable import AWSClient
import Foundation
import LivestreamCore
import Synchronization
import TestSupport
import Testing

/// A transport double that answers from a script and records what it was asked.
final class ScriptedTransport: HTTPTransport {
    private let script: Mutex<[(match: String, answer: Result<HTTPResponse, TransportError>)]>
    let seen = Mutex<[HTTPRequest]>([])

    init(_ script: [(String, Result<HTTPResponse, TransportError>)]) {
        self.script = Mutex(script.map { (match: $0.0, answer: $0.1) })
    }

    func send(_ request: HTTPRequest) throws -> HTTPResponse {
        seen.withLock { $0.append(request) }
        let key = "\(request.method) \(request.url)"
        guard let answer = script.withLock({ $0.first { $0.match == key }?.answer }) else { throw TransportError(.connection, "no route to \(key)") }
        return try answer.get()
    }
}

struct CredentialTests {
    let folder = TemporaryFolder(prefix: "creds")
    var directory: String { folder.path }

    func write(_ text: String, _ name: String) throws -> String { try folder.write(text, name) }

    @Test func environmentWithSessionToken() throws {
        let provider = EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"])
        #expect(try provider.load() == AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token"))
        #expect(try EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID"]).load() == nil)
    }

    @Test func sharedFilesAndProfiles() throws {
        let credentials = try write("""
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret
            # a comment
            [work]
            aws_access_key_id=WORKKEY
            aws_secret_access_key=worksecret
            aws_session_token = worktoken
            """, "credentials")
        let config = try write("""
            [profile other]
            aws_access_key_id = OTHERKEY
            aws_secret_access_key = othersecret
            region = eu-west-1
            """, "config")
        func load(_ profile: String?) throws -> AWSCredentials? {
            var environment = ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]
            environment["AWS_PROFILE"] = profile
            return try SharedFileCredentialProvider(environment: environment).load()
        }
        #expect(try load(nil)?.accessKeyId == "DEFAULTKEY")
        #expect(try load("work") == AWSCredentials(accessKeyId: "WORKKEY", secretAccessKey: "worksecret", sessionToken: "worktoken"))
        #expect(try load("other")?.accessKeyId == "OTHERKEY")
        #expect(try load("missing") == nil)
    }

    static let document = #"{"Code":"Success","AccessKeyId":"ASIAROLE","SecretAccessKey":"rolesecret","Token":"roletoken","Expiration":"2026-11-25T12:00:00Z"}"#

    @Test func instanceMetadataUsesTheIMDSv2Token() throws {
        let transport = ScriptedTransport([
            ("PUT http://imds.test/latest/api/token", .success(HTTPResponse(status: 200, body: Array("session-token".utf8)))),
            ("GET http://imds.test/latest/meta-data/iam/security-credentials/", .success(HTTPResponse(status: 200, body: Array("my-role\n".utf8)))),
            ("GET http://imds.test/latest/meta-data/iam/security-credentials/my-role", .success(HTTPResponse(status: 200, body: Array(Self.document.utf8)))),
        ])
        let provider = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test/"], transport: transport)
        let credentials = try #require(try provider.load())
        #expect(credentials.accessKeyId == "ASIAROLE" && credentials.sessionToken == "roletoken")
        #expect(credentials.expiration == ISO8601DateFormatter().date(from: "2026-11-25T12:00:00Z"))
        let requests = transport.seen.withLock { $0 }
        #expect(requests[0].headers.contains { $0.0 == "X-aws-ec2-metadata-token-ttl-seconds" })
        #expect(requests.dropFirst().allSatisfy { $0.headers.contains { $0 == ("X-aws-ec2-metadata-token", "session-token") } })
    }

    @Test func noInstanceMetadataMeansNoCredentialsNotAnError() throws {
        let provider = InstanceMetadataCredentialProvider(environment: [:], transport: ScriptedTransport([]))
        #expect(try provider.load() == nil)
        #expect(try InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"], transport: ScriptedTransport([])).load() == nil)
    }

    @Test func containerCredentials() throws {
        let transport = ScriptedTransport([("GET http://169.254.170.2/v2/credentials/abc", .success(HTTPResponse(status: 200, body: Array(Self.document.utf8))))])
        let provider = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], transport: transport)
        #expect(try provider.load()?.accessKeyId == "ASIAROLE")
        let full = ScriptedTransport([("GET http://localhost:9/creds", .success(HTTPResponse(status: 200, body: Array(Self.document.utf8))))])
        let withToken = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:9/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer x"], transport: full)
        #expect(try withToken.load() != nil)
        #expect(full.seen.withLock { $0.first?.headers.first?.1 } == "Bearer x")
    }

    /// A provider double whose answers change over time.
    final class Sequence: CredentialProvider {
        let name = "sequence"
        let answers: Mutex<[Result<AWSCredentials?, CredentialsError>]>
        init(_ answers: [Result<AWSCredentials?, CredentialsError>]) { self.answers = Mutex(answers) }
        func load() throws -> AWSCredentials? {
            try answers.withLock { $0.isEmpty ? .success(nil) : $0.removeFirst() }.get()
        }
    }

    @Test func chainRefreshesBeforeExpiryAndKeepsValidOnesOnFailure() throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1000))
        let first = AWSCredentials(accessKeyId: "A1", secretAccessKey: "s", sessionToken: "t", expiration: Date(timeIntervalSince1970: 2000))
        let second = AWSCredentials(accessKeyId: "A2", secretAccessKey: "s", sessionToken: "t", expiration: Date(timeIntervalSince1970: 5000))
        let source = Sequence([.success(first), .failure(CredentialsError("metadata down")), .success(second)])
        let chain = CredentialChain(providers: [source], refreshMargin: 300, now: { clock.withLock { $0 } })
        #expect(try chain.credentials().accessKeyId == "A1")
        clock.withLock { $0 = Date(timeIntervalSince1970: 1500) }
        #expect(try chain.credentials().accessKeyId == "A1", "no reload while far from expiry")
        clock.withLock { $0 = Date(timeIntervalSince1970: 1800) }
        #expect(try chain.credentials().accessKeyId == "A1", "a failed refresh keeps still-valid credentials")
        #expect(try chain.credentials().accessKeyId == "A2", "refreshed inside the margin")
    }

    @Test func noSourceGivesAClearErrorWithoutSecrets() {
        let chain = CredentialChain.standard(
            accessKeyId: nil, secretAccessKey: "only-a-secret", sessionToken: nil,
            environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"], transport: ScriptedTransport([]))
        #expect {
            try chain.credentials()
        } throws: { error in
            let message = "\(error)"
            return message.contains("no AWS credentials found") && message.contains("instance metadata") && !message.contains("only-a-secret")
        }
    }
}

struct MoreCredentialSourcesTests {
    let folder = TemporaryFolder(prefix: "creds-more")
    var directory: String { folder.path }

    func write(_ text: String, _ name: String) throws -> String { try folder.write(text, name) }

    static let document = #"{"Code":"Success","AccessKeyId":"ASIAROLE","SecretAccessKey":"rolesecret","Token":"roletoken","Expiration":"2026-11-25T12:00:00Z"}"#

    @Test func instanceMetadataFallsBackToIMDSv1WhenTheTokenCannotBeHad() throws {
        // The PUT gets no answer (hop limit 1 from a container): the same reads without the token.
        let transport = ScriptedTransport([
            ("GET http://imds.test/latest/meta-data/iam/security-credentials/", .success(HTTPResponse(status: 200, body: Array("my-role".utf8)))),
            ("GET http://imds.test/latest/meta-data/iam/security-credentials/my-role", .success(HTTPResponse(status: 200, body: Array(Self.document.utf8)))),
        ])
        let provider = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test"], transport: transport)
        #expect(try provider.load()?.accessKeyId == "ASIAROLE")
        #expect(transport.seen.withLock { $0.dropFirst().allSatisfy { $0.headers.isEmpty } })
        let v2Only = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test", "AWS_EC2_METADATA_V1_DISABLED": "true"], transport: transport)
        #expect(try v2Only.load() == nil)
        let off = ScriptedTransport([("PUT http://imds.test/latest/api/token", .success(HTTPResponse(status: 403, body: [])))])
        #expect(try InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.test"], transport: off).load() == nil)
    }

    @Test func containerTokenFromItsFileAndOnlyToHostsTheSDKsAllow() throws {
        let tokenFile = try write("eks-pod-token\n", "token")
        let transport = ScriptedTransport([("GET http://169.254.170.23/v1/credentials", .success(HTTPResponse(status: 200, body: Array(Self.document.utf8))))])
        let provider = ContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "older"], transport: transport)
        #expect(try provider.load()?.accessKeyId == "ASIAROLE")
        #expect(transport.seen.withLock { $0.first?.headers.first?.1 } == "eks-pod-token", "the file wins and is read as it is now")
        for allowed in ["https://creds.example.com/x", "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:80/x", "http://169.254.170.2/x"] {
            #expect(ContainerCredentialProvider.isAllowed(allowed), "\(allowed)")
        }
        for refused in ["http://creds.example.com/x", "http://10.0.0.1/x", "http://127.0.0.1.evil.com/x", "ftp://127.0.0.1/x", "http://user@evil.com/x"] {
            #expect(!ContainerCredentialProvider.isAllowed(refused), "\(refused)")
        }
        let remote = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com/x"], transport: transport)
        #expect(throws: CredentialsError.self) { try remote.load() }
    }

    @Test func credentialProcessOfTheProfileAndUnsupportedProfilesSayWhy() throws {
        let helper = try write(#"""
            #!/bin/sh
            echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "procsecret", "SessionToken": "proctoken", "Expiration": "2026-11-25T12:00:00Z"}'

            """#, "helper.sh")
        chmod(helper, 0o755)
        let config = try write("""
            [profile proc]
            credential_process = \(helper) --any "quoted arg"
            [profile failing]
            credential_process = /bin/false
            [profile sso]
            sso_session = corp
            """, "config")
        func load(_ profile: String) throws -> AWSCredentials? {
            try SharedFileCredentialProvider(environment: ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": directory + "/none", "AWS_PROFILE": profile]).load()
        }
        let loaded = try #require(try load("proc"))
        #expect(loaded.accessKeyId == "AKIDPROC" && loaded.sessionToken == "proctoken" && loaded.expiration != nil)
        #expect { try load("failing") } throws: { "\($0)".contains("exited with 1") }
        #expect { try load("sso") } throws: { "\($0)".contains("sso_session") }
    }

    static let assumed = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
        <Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role/secret</SecretAccessKey><SessionToken>roletoken</SessionToken>
        <Expiration>2026-11-25T12:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
        """

    @Test func assumeRoleProfilesAreSignedWithTheirSourceAndChainsAndLoopsAreHandled() throws {
        let credentialsFile = try write("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n", "credentials")
        let config = try write("""
            [profile deploy]
            role_arn = arn:aws:iam::123456789012:role/livestreamd
            source_profile = base
            external_id = ext-1
            role_session_name = host-1
            [profile second]
            role_arn = arn:aws:iam::210987654321:role/other
            source_profile = deploy
            [profile fromenv]
            role_arn = arn:aws:iam::123456789012:role/livestreamd
            credential_source = Environment
            [profile loop-a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = loop-b
            [profile loop-b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = loop-a
            [profile nosource]
            role_arn = arn:aws:iam::123456789012:role/x
            """, "config")
        func provider(_ profile: String, _ transport: ScriptedTransport, extra: [String: String] = [:]) -> SharedFileCredentialProvider {
            SharedFileCredentialProvider(
                environment: ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentialsFile, "AWS_PROFILE": profile].merging(extra) { $1 },
                sts: ("http://sts.test", "eu-west-1"), transport: transport)
        }
        func sts() -> ScriptedTransport { ScriptedTransport([("POST http://sts.test/", .success(HTTPResponse(status: 200, body: Array(Self.assumed.utf8))))]) }

        let transport = sts()
        let credentials = try #require(try provider("deploy", transport).load())
        #expect(credentials.accessKeyId == "ASIAROLE" && credentials.sessionToken == "roletoken" && credentials.expiration != nil)
        let request = try #require(transport.seen.withLock { $0.first })
        let form = String(decoding: request.body, as: UTF8.self)
        #expect(form.contains("Action=AssumeRole&") && form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Flivestreamd"))
        #expect(form.contains("ExternalId=ext-1") && form.contains("RoleSessionName=host-1"))
        let authorization = request.headers.first { $0.0 == "Authorization" }?.1 ?? ""
        #expect(authorization.contains("Credential=AKIDBASE/") && authorization.contains("/eu-west-1/sts/aws4_request"), "signed with the source profile's keys")

        // A role whose source is another role: two AssumeRole calls, the second signed with the first's keys.
        let chained = sts()
        #expect(try provider("second", chained).load()?.accessKeyId == "ASIAROLE")
        let signers = chained.seen.withLock { $0 }.map { $0.headers.first { $0.0 == "Authorization" }?.1 ?? "" }
        #expect(signers.count == 2 && signers[0].contains("Credential=AKIDBASE/") && signers[1].contains("Credential=ASIAROLE/"))

        let fromEnvironment = sts()
        _ = try provider("fromenv", fromEnvironment, extra: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "envsecret"]).load()
        #expect(fromEnvironment.seen.withLock { $0 }.first?.headers.contains { $0.0 == "Authorization" && $0.1.contains("Credential=AKIDENV/") } == true)

        #expect { try provider("loop-a", sts()).load() } throws: { "\($0)".contains("name each other") }
        #expect { try provider("nosource", sts()).load() } throws: { "\($0)".contains("neither source_profile nor credential_source") }
        let denied = ScriptedTransport([("POST http://sts.test/", .success(HTTPResponse(status: 403, body: Array("<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>".utf8))))])
        #expect { try provider("deploy", denied).load() } throws: { "\($0)".contains("AccessDenied") && !"\($0)".contains("basesecret") }
    }
}

struct WebIdentityTests {
    static let answer = """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
        <Credentials><AccessKeyId>ASIAWEBID</AccessKeyId><SecretAccessKey>web/secret+1</SecretAccessKey><SessionToken>webtoken</SessionToken>
        <Expiration>2026-11-25T12:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
        """

    @Test func theTokenFileIsExchangedForTheRolesCredentialsUnsigned() throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("webid-\(UUID().uuidString)").path
        try "eyJhbGciOi.pod+token/x=\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let transport = ScriptedTransport([("POST http://sts.test/", .success(HTTPResponse(status: 200, body: Array(Self.answer.utf8))))])
        let environment = ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/livestreamd", "AWS_ROLE_SESSION_NAME": "pod-1"]
        let provider = WebIdentityCredentialProvider(environment: environment, stsEndpoint: "http://sts.test", transport: transport)
        let credentials = try #require(try provider.load())
        #expect(credentials.accessKeyId == "ASIAWEBID" && credentials.secretAccessKey == "web/secret+1" && credentials.sessionToken == "webtoken")
        #expect(credentials.expiration == ISO8601DateFormatter().date(from: "2026-11-25T12:00:00Z"))
        let request = try #require(transport.seen.withLock { $0.first })
        let form = String(decoding: request.body, as: UTF8.self)
        #expect(form.contains("Action=AssumeRoleWithWebIdentity") && form.contains("RoleSessionName=pod-1"))
        #expect(form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Flivestreamd"))
        #expect(form.contains("WebIdentityToken=eyJhbGciOi.pod%2Btoken%2Fx%3D"), "the token, trimmed and form-encoded")
        #expect(!request.headers.contains { $0.0.lowercased() == "authorization" }, "AssumeRoleWithWebIdentity is not signed")
        #expect(try WebIdentityCredentialProvider(environment: [:], stsEndpoint: "http://sts.test", transport: transport).load() == nil)
        let denied = ScriptedTransport([("POST http://sts.test/", .success(HTTPResponse(status: 403, body: Array("<Error><Code>AccessDenied</Code></Error>".utf8))))])
        #expect { try WebIdentityCredentialProvider(environment: environment, stsEndpoint: "http://sts.test", transport: denied).load() } throws: {
            "\($0)".contains("AccessDenied") && !"\($0)".contains("eyJhbGciOi")
        }
    }
}

struct SharedSettingsTests {
    func configuration(region: String) throws -> Configuration {
        try Configuration(options: AWSSettings.options, environment: [
            "LIVESTREAM_AWS_REGION": region, "LIVESTREAM_AWS_ACCESS_KEY_ID": "AKIDSHARED", "LIVESTREAM_AWS_SECRET_ACCESS_KEY": "shared-secret",
        ])
    }

    @Test func pluginsWithTheSameAWSSettingsShareOneCredentialChain() throws {
        let first = try AWSSettings.shared(configuration: try configuration(region: "eu-west-1"))
        let second = try AWSSettings.shared(configuration: try configuration(region: "eu-west-1"))
        let other = try AWSSettings.shared(configuration: try configuration(region: "eu-central-1"))
        #expect(first.credentials === second.credentials && first.endpoints == second.endpoints)
        #expect(other.credentials !== first.credentials && other.endpoints.region == "eu-central-1")
    }
}
