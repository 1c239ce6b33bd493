import AWSClient
import Foundation
import Logging

/// `moto_server` (PyPI moto[server]) on 127.0.0.1 and a free port, stopped when released; run through
/// `Tests/AWSEmulator/moto_atomic.py`, which gives DynamoDB requests the atomicity DynamoDB has.
///
/// Signature checking is on: the first three calls are free (to make a user and its
/// access key, see `makeAccessKey`), every later one must be signed correctly.
public final class MotoServer: @unchecked Sendable {
    let process = Process()
    public let port: Int
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// - Parameter checkSignatures: verify SigV4 on every call after the first three.
    public init(checkSignatures: Bool = true) throws {
        port = MotoServer.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("AWSEmulator/moto_atomic.py")
        process.arguments = ["python3", fixture.path, "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        // The first three calls go unchecked (to make a user and its key); every later one must be signed correctly.
        if checkSignatures { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? URLSessionTransport().send(HTTPRequest(method: "GET", url: endpoint + "/moto-api/", timeout: .seconds(1))))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        process.terminate()
        throw CredentialsError("moto_server did not start (pip install 'moto[server]')")
    }

    deinit {
        MotoServer.stop(process)
    }

    /// Stops a helper process. SIGKILL, because children of the test runner inherit its
    /// signal mask with SIGTERM blocked and would ignore a polite request.
    public static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A client of `name` at this server.
    public func service(
        _ name: String, key: String, secret: String, retry: RetryPolicy = RetryPolicy(maxAttempts: 1), transport: any HTTPTransport = URLSessionTransport()
    ) -> AWSService {
        AWSService(
            name: name, endpoints: AWSEndpoints(region: "us-east-1", shared: endpoint),
            credentials: CredentialChain(providers: [StaticCredentialProvider(accessKeyId: key, secretAccessKey: secret, sessionToken: nil)]),
            transport: transport, retry: retry, logger: Logger(label: "moto"))
    }

    /// IAM's query protocol: CreateUser, PutUserPolicy (allow everything), CreateAccessKey.
    public func makeAccessKey() throws -> (String, String) {
        let iam = service("iam", key: "AKIDBOOTSTRAP", secret: "bootstrap")
        func call(_ form: String) throws -> String {
            let response = try iam.send(method: "POST", path: "/", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array((form + "&Version=2010-05-08").utf8))
            return String(decoding: response.body, as: UTF8.self)
        }
        _ = try call("Action=CreateUser&UserName=livestreamd")
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try call("Action=PutUserPolicy&UserName=livestreamd&PolicyName=all&PolicyDocument=" + SignatureV4.uriEncode(policy, keepSlash: false))
        let created = try call("Action=CreateAccessKey&UserName=livestreamd")
        func element(_ name: String) -> String? {
            guard let open = created.range(of: "<\(name)>"), let close = created.range(of: "</\(name)>") else { return nil }
            return String(created[open.upperBound..<close.lowerBound])
        }
        guard let key = element("AccessKeyId"), let secret = element("SecretAccessKey") else { throw CredentialsError("moto did not create an access key") }
        return (key, secret)
    }


    /// A port nothing listens on now (the kernel's choice for a bind to port 0).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
