import LivestreamCore
import Synchronization

/// nginx-rtmp's `rtmp_stat` page, read for the publishers it lists and their input.
///
/// The page shows only the worker that answers it: after `nginx -s reload`, publishers
/// held by the old worker are missing. So a client absent from it is gone only if no worker
/// reported it through `on_update` either (see `PublisherLiveness.isGone`).
final class NginxStat: Sendable {
    /// `rtmp_stat` URL, with the internal token if there is one.
    let url: String
    let app: String

    /// The page as last read, at most `maxAge` ago (nil: nginx did not answer then).
    private let recent = Mutex<(at: ContinuousClock.Instant, page: String?)?>(nil)
    /// How long a read page serves the read path (nginx-rtmp measures bandwidth over a few seconds anyway).
    static let maxAge: Duration = .seconds(2)

    init(url: String, app: String) {
        self.url = url
        self.app = app
    }

    /// Client ids publishing in the application, or nil when nginx cannot be asked.
    func publishingClients() -> Set<String>? {
        guard let answer = try? LoopbackHTTP.get(url), answer.status == 200 else { return nil }
        return NginxStat.publishingClients(in: answer.body, app: app)
    }

    /// Each publishing client's input, from a page at most `maxAge` old; nil when nginx cannot be asked.
    func recentInputFigures() -> [String: InputFigures]? {
        let now = ContinuousClock.now
        let cached = recent.withLock { entry in entry.flatMap { now - $0.at < NginxStat.maxAge ? $0 : nil } }
        let page: String?
        if let cached {
            page = cached.page
        } else {
            page = (try? LoopbackHTTP.get(url, timeoutSeconds: 1)).flatMap { $0.status == 200 ? $0.body : nil }
            recent.withLock { $0 = (now, page) }
        }
        return page.map { NginxStat.inputFigures(in: $0, app: app) }
    }

    /// Client ids with `<publishing/>` inside `<application><name>app</name>...</application>`; nil if the page is not rtmp_stat's.
    static func publishingClients(in xml: String, app: String) -> Set<String>? {
        guard xml.contains("<rtmp>") else { return nil }
        var clients: Set<String> = []
        for body in applications(named: app, in: xml) {
            for client in body.components(separatedBy: "<client>").dropFirst() {
                let fields = client.components(separatedBy: "</client>")[0]
                guard fields.contains("<publishing/>"), let id = value(of: "id", in: fields) else { continue }
                clients.insert(id)
            }
        }
        return clients
    }

    /// Each publishing client's input (by client id): the stream's `bw_in` and its video metadata.
    static func inputFigures(in xml: String, app: String) -> [String: InputFigures] {
        var figures: [String: InputFigures] = [:]
        for body in applications(named: app, in: xml) {
            for stream in body.components(separatedBy: "<stream>").dropFirst() {
                let fields = stream.components(separatedBy: "</stream>")[0]
                let publisher = fields.components(separatedBy: "<client>").dropFirst()
                    .map { $0.components(separatedBy: "</client>")[0] }
                    .first { $0.contains("<publishing/>") }
                guard let client = publisher.flatMap({ value(of: "id", in: $0) }) else { continue }
                let video = value(of: "video", in: fields) ?? ""
                figures[client] = InputFigures(
                    bitsPerSecond: bitsPerSecond(fields), frameRate: value(of: "frame_rate", in: video).flatMap { Double($0) },
                    width: value(of: "width", in: video).flatMap { Int($0) }, height: value(of: "height", in: video).flatMap { Int($0) })
            }
        }
        return figures
    }

    /// `bw_in`, which nginx-rtmp measures over 10-second intervals; before the first one ends
    /// (it says 0), the average since the publish began (`bytes_in` over `time`, in ms).
    private static func bitsPerSecond(_ stream: String) -> Int? {
        if let measured = value(of: "bw_in", in: stream).flatMap({ Int($0) }), measured > 0 { return measured }
        guard let bytes = value(of: "bytes_in", in: stream).flatMap({ Int($0) }), let milliseconds = value(of: "time", in: stream).flatMap({ Int($0) }),
            milliseconds > 0
        else { return nil }
        return bytes * 8 * 1000 / milliseconds
    }

    /// The bodies of the `<application>` elements named `app` (nginx-rtmp puts each tag on its own line).
    private static func applications(named app: String, in xml: String) -> [String] {
        xml.components(separatedBy: "<application>").dropFirst()
            .filter { $0.drop { $0.isWhitespace }.hasPrefix("<name>\(app)</name>") }
            .map { $0.components(separatedBy: "</application>")[0] }
    }

    private static func value(of tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
