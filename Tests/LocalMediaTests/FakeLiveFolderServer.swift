@testable import LocalMedia
import Foundation
import Synchronization

/// The snippets' `/live-folders/` location as nginx's WebDAV answers it (GET, PUT, DELETE on `directory`),
/// recording each request; only requests with the token header are served.
final class FakeLiveFolderServer: Sendable {
    struct Request: Sendable {
        let target: String
        let token: String?
        let body: String?
    }

    let directory: String
    let token = "internal-token-for-tests"
    private let recorded = Mutex<[Request]>([])

    init(directory: String) {
        self.directory = directory
    }

    var requests: [Request] { recorded.withLock { $0 } }

    /// LiveFolders talking to this server.
    func folders() -> LiveFolders {
        var folders = LiveFolders(directory: directory, url: "http://127.0.0.1:8081/live-folders", token: token)
        folders.exchange = { [self] method, url, headers, body in handle(method, url, headers: headers, body: body) }
        return folders
    }

    private func handle(_ method: String, _ url: String, headers: [String: String], body: String?) -> (status: Int, body: String) {
        let path = String(url.dropFirst("http://127.0.0.1:8081".count))
        recorded.withLock { $0.append(Request(target: "\(method) \(path)", token: headers[LiveFolders.tokenHeader], body: body)) }
        guard headers[LiveFolders.tokenHeader] == token else { return (403, "") }
        let file = directory + "/" + path.dropFirst("/live-folders/".count)
        switch method {
        case "GET":
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return (404, "") }
            return (200, text)
        case "PUT":
            return FileManager.default.createFile(atPath: file, contents: Data((body ?? "").utf8)) ? (204, "") : (409, "")
        case "DELETE":
            guard FileManager.default.fileExists(atPath: file) else { return (404, "") }
            return (try? FileManager.default.removeItem(atPath: file)) != nil ? (204, "") : (500, "")
        default:
            return (405, "")
        }
    }
}
