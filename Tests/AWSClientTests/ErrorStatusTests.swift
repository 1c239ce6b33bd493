import AWSClient
import LivestreamAPI
import LivestreamCore
import Testing

/// How an AWS failure reaches a client: the mapping pinned case by case (status and code).
struct ErrorStatusTests {
    static let cases: [(String, any Error, Int, String)] = [
        ("throttling code", AWSError(service: "medialive", status: 400, code: "ThrottlingException", message: "slow down", requestId: "r"), 503, "ThrottlingException"),
        ("429", AWSError(service: "mediapackage", status: 429, code: "TooManyRequestsException", message: "x", requestId: nil), 503, "TooManyRequestsException"),
        ("500", AWSError(service: "dynamodb", status: 500, code: "InternalServerError", message: "x", requestId: nil), 503, "InternalServerError"),
        ("503", AWSError(service: "s3", status: 503, code: "SlowDown", message: "x", requestId: nil), 503, "SlowDown"),
        ("other 4xx", AWSError(service: "medialive", status: 422, code: "UnprocessableEntityException", message: "x", requestId: nil), 502, "UnprocessableEntityException"),
        ("access denied", AWSError(service: "ssm", status: 400, code: "AccessDeniedException", message: "no", requestId: nil), 502, "AccessDeniedException"),
        ("timeout", TransportError(.timeout, "no answer"), 504, "Timeout"),
        ("unreachable", TransportError(.connection, "refused"), 503, "Unreachable"),
        ("no credentials", CredentialsError("no AWS credentials found"), 502, "NoCredentials"),
    ]

    @Test(arguments: 0..<cases.count)
    func awsFailuresMapToOneStatusEach(_ index: Int) throws {
        let (what, error, status, code) = Self.cases[index]
        let mapped = try #require(ServiceError.aws(error, doing: "Operation") as? ServiceError, "\(what)")
        #expect(APIResponse.status(of: mapped.kind) == status, "\(what)")
        #expect(mapped.code.rawValue == code, "\(what)")
        #expect(mapped.message.contains("Operation"), "the message names the operation")
    }

    @Test func everyKindHasItsStatus() {
        let table: [(ServiceError.Kind, Int)] = [
            (.badRequest, 400), (.unauthorized, 401), (.forbidden, 403), (.notFound, 404), (.methodNotAllowed, 405), (.conflict, 409),
            (.payloadTooLarge, 413), (.internal, 500), (.upstreamFailed, 502), (.upstreamUnavailable, 503), (.upstreamTimeout, 504),
            (.insufficientStorage, 507),
        ]
        for (kind, status) in table { #expect(APIResponse.status(of: kind) == status, "\(kind)") }
    }
}
