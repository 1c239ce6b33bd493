import AWSClient
import Foundation
import Testing

/// Signature V4 against botocore's results for our request shapes and the official AWS suite.
/// Stages are compared in order, so a failure names the step that broke.
struct SignatureV4Tests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Vector: Decodable {
        struct Credentials: Decodable {
            let access_key: String
            let secret_key: String
            let token: String?
        }
        let name: String
        let service: String
        let region: String
        let method: String
        let url: String
        let headers: [String: String]
        let body: String
        let credentials: Credentials
        let amz_date: String
        let canonical_request: String
        let string_to_sign: String
        let authorization: String
        let request_headers_after_signing: [String: String]
    }

    static func vectors() throws -> [Vector] {
        struct File: Decodable { let vectors: [Vector] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: fixtures.appendingPathComponent("vectors.json"))).vectors
    }

    static func date(_ amzDate: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: amzDate)!
    }

    @Test func matchesBotocoreOnOurRequestShapes() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 32)
        for vector in vectors {
            let signer = SignatureV4(service: vector.service, region: vector.region)
            let credentials = AWSCredentials(accessKeyId: vector.credentials.access_key, secretAccessKey: vector.credentials.secret_key, sessionToken: vector.credentials.token)
            let request = SignatureV4.Request(method: vector.method, url: vector.url, headers: vector.headers.map { ($0.key, $0.value) }, body: Array(vector.body.utf8))
            let signature = signer.sign(request, credentials: credentials, date: Self.date(vector.amz_date))
            try #require(signature.canonicalRequest == vector.canonical_request, "\(vector.name): canonical request")
            try #require(signature.stringToSign == vector.string_to_sign, "\(vector.name): string to sign")
            #expect(signature.authorization == vector.authorization, "\(vector.name): authorization")
            let signedHeaders = Dictionary(signature.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
            for (name, value) in vector.request_headers_after_signing {
                #expect(signedHeaders[name.lowercased()] == value, "\(vector.name): header \(name)")
            }
        }
    }

    /// One case of the official suite: `<name>.req` and the expected `.creq`, `.sts`, `.authz`.
    static func officialCases() throws -> [URL] {
        let root = fixtures.appendingPathComponent("aws4_testsuite")
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "req" }.sorted { $0.path < $1.path }
    }

    @Test func matchesTheOfficialTestSuite() throws {
        let cases = try Self.officialCases()
        #expect(cases.count >= 30)
        for file in cases {
            let name = file.deletingPathExtension().lastPathComponent
            let base = file.deletingPathExtension()
            let raw = try String(contentsOf: file, encoding: .utf8)
            let expectedCanonical = try String(contentsOf: base.appendingPathExtension("creq"), encoding: .utf8)
            let expectedStringToSign = try String(contentsOf: base.appendingPathExtension("sts"), encoding: .utf8)
            let expectedAuthorization = try String(contentsOf: base.appendingPathExtension("authz"), encoding: .utf8)
            let request = Self.parse(raw)
            // The token, where the case signs one, is the value its canonical request shows.
            let token = expectedCanonical.split(separator: "\n").first { $0.hasPrefix("x-amz-security-token:") }.map { String($0.dropFirst("x-amz-security-token:".count)) }
            let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token)
            let signature = SignatureV4(service: "service", region: "us-east-1").sign(request, credentials: credentials, date: Self.date("20150830T123600Z"))
            try #require(signature.canonicalRequest == expectedCanonical, "\(name): canonical request")
            try #require(signature.stringToSign == expectedStringToSign, "\(name): string to sign")
            #expect(signature.authorization == expectedAuthorization, "\(name): authorization")
        }
    }

    /// A raw `.req`: request line, headers (indented lines continue a value), blank line, body.
    static func parse(_ raw: String) -> SignatureV4.Request {
        let lines = raw.components(separatedBy: "\n")
        let requestLine = lines[0].split(separator: " ")
        let method = String(requestLine[0])
        let target = requestLine.dropFirst().dropLast().joined(separator: " ")
        var headers: [(String, String)] = []
        var index = 1
        while index < lines.count, !lines[index].isEmpty {
            let line = lines[index]
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
            index += 1
        }
        let body = index + 1 < lines.count ? lines[(index + 1)...].joined(separator: "\n") : ""
        let host = headers.first { $0.0.lowercased() == "host" }?.1 ?? "example.amazonaws.com"
        return SignatureV4.Request(method: method, url: "https://\(host)\(wireTarget(target))", headers: headers, body: Array(body.utf8))
    }

    /// The suite writes targets as people read them; a client sends the query encoded
    /// (each name and value, unreserved characters kept), as botocore's harness does.
    /// The path stays as written: the signer encodes it.
    static func wireTarget(_ target: String) -> String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        let query = target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                SignatureV4.uriEncode(String($0).removingPercentEncoding ?? String($0), keepSlash: false)
            }
            return parts.joined(separator: "=")
        }
        return target[..<mark] + "?" + query.joined(separator: "&")
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0ken")
        #expect(!"\(credentials)".contains("s3cr3t") && !"\(credentials)".contains("t0ken") && "\(credentials)".contains("AKID"))
    }
}
