import Foundation
import Synchronization

/// The first source that has credentials, remembered and refreshed before it expires.
///
/// Order as the AWS SDKs use it: configuration, environment, web identity, shared files
/// (a profile's assumed role, keys or credential process), container, instance metadata. Temporary credentials are reloaded `refreshMargin` before their
/// expiration; if a reload fails while the old ones are still valid, those are used.
public final class CredentialChain: Sendable {
    private let providers: [any CredentialProvider]
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private let current = Mutex<AWSCredentials?>(nil)
    private let currentSource = Mutex<String?>(nil)

    /// The name of the source the current credentials came from (never the credentials).
    public var source: String? { currentSource.withLock { $0 } }

    public init(providers: [any CredentialProvider], refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() }) {
        self.providers = providers
        self.refreshMargin = refreshMargin
        self.now = now
    }

    /// The standard chain for a process.
    /// - Parameters:
    ///   - stsEndpoint: where web identity tokens are exchanged and profiles' roles assumed.
    ///   - region: STS's signing region.
    public static func standard(
        accessKeyId: String?, secretAccessKey: String?, sessionToken: String?, environment: [String: String], transport: any HTTPTransport,
        stsEndpoint: String = "https://sts.amazonaws.com", region: String = "us-east-1"
    ) -> CredentialChain {
        CredentialChain(providers: [
            StaticCredentialProvider(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken),
            EnvironmentCredentialProvider(environment: environment),
            WebIdentityCredentialProvider(environment: environment, stsEndpoint: stsEndpoint, transport: transport),
            SharedFileCredentialProvider(environment: environment, sts: (stsEndpoint, region), transport: transport),
            ContainerCredentialProvider(environment: environment, transport: transport),
            InstanceMetadataCredentialProvider(environment: environment, transport: transport),
        ])
    }

    /// Forgets the current credentials: the next call loads them again (a service said they expired).
    public func invalidate() {
        current.withLock { $0 = nil }
    }

    /// Credentials valid for at least the refresh margin (or the last valid ones if a refresh fails).
    public func credentials() throws -> AWSCredentials {
        let cached = current.withLock { $0 }
        if let cached, !needsRefresh(cached) { return cached }
        do {
            let fresh = try load()
            current.withLock { $0 = fresh }
            return fresh
        } catch {
            if let cached, let expiration = cached.expiration, expiration > now() { return cached }
            throw error
        }
    }

    private func needsRefresh(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now()) < refreshMargin
    }

    private func load() throws -> AWSCredentials {
        var failures: [String] = []
        for provider in providers {
            do {
                if let credentials = try provider.load() {
                    currentSource.withLock { $0 = provider.name }
                    return credentials
                }
            } catch {
                failures.append("\(provider.name): \(error)")
            }
        }
        let tried = providers.map(\.name).joined(separator: ", ")
        throw CredentialsError(
            "no AWS credentials found (tried \(tried))" + (failures.isEmpty ? "" : "; " + failures.joined(separator: "; "))
                + ". Set aws.access_key_id/aws.secret_access_key, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials, or run with an instance or task role.")
    }
}
