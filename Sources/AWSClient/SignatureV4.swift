import Crypto
import Foundation

/// AWS Signature Version 4 for one service and region.
///
/// Pure and deterministic: the time is a parameter. It follows the AWS documentation
/// step by step (canonical request, string to sign, signing key, signature) with the
/// rules botocore applies: every service but S3 has its path normalised (dot segments
/// and repeated slashes removed) and percent-encoded once more; S3 signs the path as
/// sent and always carries `x-amz-content-sha256`.
public struct SignatureV4: Sendable {
    public let service: String
    public let region: String

    /// Headers never signed (hop-by-hop and agent headers proxies may change).
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    var isS3: Bool { service == "s3" }

    /// A request to sign.
    public struct Request: Sendable {
        public var method: String
        /// Full URL; path and query as they will be sent (percent-encoded).
        public var url: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
        }
    }

    /// The stages of a signature, for tests and debugging.
    public struct Signature: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let authorization: String
        /// The request's headers after signing (with `X-Amz-Date`, the token, `Authorization`).
        public let headers: [(String, String)]
    }

    /// Signs `request` with `credentials` at `date`.
    public func sign(_ request: Request, credentials: AWSCredentials, date: Date) -> Signature {
        let timestamp = SignatureV4.timestamp(date)
        var headers = request.headers.filter {
            let name = $0.0.lowercased()
            return name != "authorization" && name != "x-amz-date" && name != "x-amz-security-token"
                && !(isS3 && name == "x-amz-content-sha256")
        }
        headers.append(("X-Amz-Date", timestamp))
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        if isS3 { headers.append(("X-Amz-Content-SHA256", SignatureV4.hexSHA256(request.body))) }

        let url = URLParts(request.url)
        var canonical: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !SignatureV4.unsignedHeaders.contains(lower) else { continue }
            canonical[lower, default: []].append(SignatureV4.trimAll(value))
        }
        if canonical["host"] == nil { canonical["host"] = [url.hostHeader] }
        let names = canonical.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let payloadHash = headers.first { $0.0.lowercased() == "x-amz-content-sha256" }?.1 ?? SignatureV4.hexSHA256(request.body)

        let canonicalRequest = [
            request.method.uppercased(),
            isS3 ? url.path : SignatureV4.uriEncode(SignatureV4.removeDotSegments(url.path.isEmpty ? "/" : url.path), keepSlash: true),
            SignatureV4.canonicalQuery(url.query),
            names.map { "\($0):\(canonical[$0]!.joined(separator: ","))" }.joined(separator: "\n") + "\n",
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope, SignatureV4.hexSHA256(Array(canonicalRequest.utf8))].joined(separator: "\n")
        let signature = SignatureV4.hex(hmac(signingKey(secret: credentials.secretAccessKey, day: day), Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append(("Authorization", authorization))
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, authorization: authorization, headers: headers)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(secret: String, day: String) -> [UInt8] {
        let dateKey = hmac(Array(("AWS4" + secret).utf8), Array(day.utf8))
        let regionKey = hmac(dateKey, Array(region.utf8))
        let serviceKey = hmac(regionKey, Array(service.utf8))
        return hmac(serviceKey, Array("aws4_request".utf8))
    }

    private func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    // MARK: - Canonical forms

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }

    /// Header value with surrounding whitespace removed and inner runs collapsed to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
            .joined(separator: " ")
    }

    /// The query's `name=value` pairs (kept as sent) sorted by name, then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        return query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            guard let equals = pair.firstIndex(of: "=") else { return (String(pair), "") }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
        .sorted { $0.0 == $1.0 ? $0.1.unicodeScalars.lexicographicallyPrecedes($1.1.unicodeScalars) : $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
        .map { "\($0.0)=\($0.1)" }
        .joined(separator: "&")
    }

    /// RFC 3986 section 5.2.4, plus the removal of repeated slashes AWS requires.
    static func removeDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
            } else {
                output.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return leading + output.joined(separator: "/") + trailing
    }

    /// Percent-encodes every byte but the unreserved characters (and `/` when asked).
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0xF)]
            }
        }
        return out
    }

    private static let hexDigits = "0123456789ABCDEF".map { String($0) }

    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The parts of an absolute URL the signer needs, taken as written.
struct URLParts {
    var scheme = ""
    var host = ""
    var port: Int?
    var path = ""
    var query = ""

    init(_ url: String) {
        var rest = Substring(url)
        if let colon = rest.range(of: "://") {
            scheme = rest[..<colon.lowerBound].lowercased()
            rest = rest[colon.upperBound...]
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close]).lowercased()
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon].lowercased()
            port = Int(authority[authority.index(after: colon)...])
        } else {
            host = authority.lowercased()
        }
        if let mark = rest.firstIndex(of: "?") {
            path = String(rest[..<mark])
            query = String(rest[rest.index(after: mark)...])
        } else {
            path = String(rest)
        }
    }

    /// `host`, with the port when it is not the scheme's default.
    var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : scheme == "http" ? 80 : -1) else { return host }
        return "\(host):\(port)"
    }
}
