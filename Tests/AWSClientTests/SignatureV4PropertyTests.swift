import AWSClient
import Foundation
import Testing
import TestSupport

/// 500 generated requests signed here and by botocore (python3) must give the same Authorization.
struct SignatureV4PropertyTests {
    struct Generated: Encodable {
        let service, region, method, url, body_hex, access_key, secret_key, amz_date: String
        let token: String?
        let headers: [[String]]
    }

    static func text(_ rng: inout SeededGenerator, alphabet: [String], length: ClosedRange<Int>) -> String {
        (0..<Int.random(in: length, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    static func generate(_ count: Int, seed: UInt64) -> [Generated] {
        var rng = SeededGenerator(seed: seed)
        let pathAlphabet = ["a", "Z", "0", "-", "_", ".", "~", " ", "é", "☃", "+", "=", "&", "%", "/", "..", "@", ":", ",", "!", "*"]
        let valueAlphabet = ["a", "B", "7", " ", "  ", "\t", "-", ";", ",", "=", "/", "\"", "(", ")"]
        let services = ["dynamodb", "medialive", "mediapackage", "ssm", "cloudfront", "s3", "service"]
        let regions = ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2"]
        let methods = ["GET", "POST", "PUT", "DELETE", "HEAD"]
        return (0..<count).map { index in
            let service = services.randomElement(using: &rng)!
            let segments = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                SignatureV4.uriEncode(text(&rng, alphabet: pathAlphabet, length: 0...8), keepSlash: Bool.random(using: &rng))
            }
            var url = "https://\(service).\(regions[index % regions.count]).amazonaws.com"
            if Bool.random(using: &rng) { url += ":\([443, 8443, 4566].randomElement(using: &rng)!)" }
            url += "/" + segments.joined(separator: "/") + (Bool.random(using: &rng) ? "/" : "")
            let pairs = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                SignatureV4.uriEncode(text(&rng, alphabet: pathAlphabet, length: 1...6), keepSlash: false) + "="
                    + SignatureV4.uriEncode(text(&rng, alphabet: pathAlphabet, length: 0...6), keepSlash: false)
            }
            if !pairs.isEmpty { url += "?" + pairs.joined(separator: "&") }
            var headers: [[String]] = [["Content-Type", ["application/json", "application/x-amz-json-1.0", "text/plain"].randomElement(using: &rng)!]]
            for number in 0..<Int.random(in: 0...3, using: &rng) {
                headers.append(["X-Test-\(number)-\(text(&rng, alphabet: ["a", "b", "C"], length: 1...4))", text(&rng, alphabet: valueAlphabet, length: 1...12)])
            }
            let body = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let hasToken = Bool.random(using: &rng)
            return Generated(
                service: service, region: regions[index % regions.count], method: methods.randomElement(using: &rng)!, url: url,
                body_hex: body.map { String(format: "%02x", $0) }.joined(),
                access_key: "AKID" + text(&rng, alphabet: ["A", "B", "7"], length: 8...16),
                secret_key: text(&rng, alphabet: ["a", "Z", "/", "+", "9"], length: 20...40),
                amz_date: String(format: "2026%02d%02dT%02d%02d%02dZ", Int.random(in: 1...12, using: &rng), Int.random(in: 1...28, using: &rng),
                                 Int.random(in: 0...23, using: &rng), Int.random(in: 0...59, using: &rng), Int.random(in: 0...59, using: &rng)),
                token: hasToken ? text(&rng, alphabet: ["x", "/", "+", "="], length: 10...30) : nil,
                headers: headers)
        }
    }

    @Test func agreesWithBotocoreOn500GeneratedRequests() throws {
        let requests = Self.generate(500, seed: 20261125)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.json")
        let output = directory.appendingPathComponent("out.json")
        try JSONEncoder().encode(requests).write(to: input)

        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", SignatureV4Tests.fixtures.appendingPathComponent("botocore_sign.py").path, input.path, output.path]
        let errors = Pipe()
        python.standardError = errors
        try python.run()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        try #require(python.terminationStatus == 0, "python3 with botocore failed (pip install botocore): \(complaint.suffix(600))")
        let expected = try JSONDecoder().decode([String].self, from: Data(contentsOf: output))
        try #require(expected.count == requests.count)

        var mismatches: [String] = []
        for (request, authorization) in zip(requests, expected) {
            let signed = SignatureV4(service: request.service, region: request.region).sign(
                SignatureV4.Request(method: request.method, url: request.url, headers: request.headers.map { ($0[0], $0[1]) }, body: Self.bytes(hex: request.body_hex)),
                credentials: AWSCredentials(accessKeyId: request.access_key, secretAccessKey: request.secret_key, sessionToken: request.token),
                date: SignatureV4Tests.date(request.amz_date))
            if signed.authorization != authorization { mismatches.append("\(request.method) \(request.url)\n  ours     \(signed.authorization)\n  botocore \(authorization)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of 500 differ; first:\n\(mismatches.prefix(3).joined(separator: "\n"))")
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
