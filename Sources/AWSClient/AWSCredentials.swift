import Foundation

/// An access key, its secret and (for temporary credentials) a session token.
///
/// `description` never shows the secret or the token, so credentials can be logged by mistake safely.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?
    /// When temporary credentials stop working; nil for long-lived keys.
    public let expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "AWSCredentials(\(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", token: <redacted>"))"
    }
}
