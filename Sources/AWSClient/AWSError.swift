import Foundation
import LivestreamCore

/// An error answer from an AWS service, parsed from whichever protocol it speaks.
public struct AWSError: Error, Equatable, CustomStringConvertible {
    /// The service's signing name (`dynamodb`, `medialive`, ...).
    public let service: String
    /// HTTP status of the answer.
    public let status: Int
    /// The error code, e.g. `ConditionalCheckFailedException`, `NoSuchKey`, `PreconditionFailed`.
    public let code: String
    public let message: String
    public let requestId: String?
    /// The answer's `Date` header: the service's clock, for skew correction.
    public let serverDate: Date?
    /// The region S3 names for a bucket addressed in the wrong one (`x-amz-bucket-region`, or
    /// `<Region>` in the error document), as botocore's S3 region redirector reads it.
    public let bucketRegion: String?

    public init(service: String, status: Int, code: String, message: String, requestId: String?, serverDate: Date? = nil, bucketRegion: String? = nil) {
        self.bucketRegion = bucketRegion
        self.serverDate = serverDate
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    public var description: String {
        "\(service) \(status) \(code): \(message)" + (requestId.map { " (request id \($0))" } ?? "")
    }

    /// The AWS error codes this service acts on (anything else is reported as it came).
    public enum Code {
        public static let conditionalCheckFailed = "ConditionalCheckFailedException"
        public static let resourceNotFound = "ResourceNotFoundException"
        public static let resourceInUse = "ResourceInUseException"
        public static let notFound = "NotFoundException"
        public static let parameterNotFound = "ParameterNotFound"
        public static let preconditionFailed = "PreconditionFailed"
    }

    /// Codes that mean "slow down and try again" (botocore's standard mode list).
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    /// Codes of failures that may pass (botocore's transient errors).
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"]

    /// Statuses botocore retries whatever the code.
    static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    /// Whether another attempt may succeed (botocore's standard mode): throttling, transient codes, 500/502/503/504.
    public var isRetryable: Bool {
        AWSError.throttlingCodes.contains(code) || AWSError.transientCodes.contains(code) || AWSError.transientStatuses.contains(status)
    }

    /// Parses an error answer of the JSON (1.0/1.1, REST-JSON) or XML (REST-XML, query) protocols.
    public static func parse(_ response: HTTPResponse, service: String) -> AWSError {
        let requestId = response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"] ?? response.headers["x-amzn-request-id"]
        let text = String(decoding: response.body, as: UTF8.self)
        var code = response.headers["x-amzn-errortype"].map(cleanCode)
        var message: String?
        if case .object(let object)? = try? JSONValue.parse(response.body) {
            code = code ?? object["__type"]?.stringValue.map(cleanCode) ?? object["code"]?.stringValue ?? object["Code"]?.stringValue
            message = object["message"]?.stringValue ?? object["Message"]?.stringValue ?? object["errorMessage"]?.stringValue
        } else if text.contains("<") {
            code = code ?? XMLScan.text(of: "Code", in: text)
            message = XMLScan.text(of: "Message", in: text)
            if code == nil, let type = XMLScan.text(of: "__type", in: text) { code = cleanCode(type) }
        }
        let fallback = response.status == 404 ? "NotFound" : response.status >= 500 ? "ServiceUnavailable" : "HTTP\(response.status)"
        return AWSError(
            service: service, status: response.status, code: code ?? fallback, message: message ?? "HTTP \(response.status)",
            requestId: requestId ?? XMLScan.text(of: "RequestId", in: text), serverDate: response.headers["date"].flatMap(httpDate),
            bucketRegion: response.headers["x-amz-bucket-region"] ?? XMLScan.text(of: "Region", in: text))
    }

    /// An IMF-fixdate (`Sun, 29 Nov 2026 14:50:00 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// Codes that say the request's time was off (as botocore's clock-skew handling reads them).
    static let skewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure", "RequestInTheFuture",
    ]

    /// Codes that say the session credentials expired.
    static let expiredTokenCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException"]

    /// `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` and `Code:http://...` -> the bare code.
    static func cleanCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        return String(code)
    }
}
