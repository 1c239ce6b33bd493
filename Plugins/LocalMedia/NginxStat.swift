/// nginx-rtmp's `rtmp_stat` page, read for the publishers it lists.
///
/// The page shows only the worker that answers it: after `nginx -s reload`, publishers
/// held by the old worker are missing. So a client absent from it is gone only if no worker
/// reported it through `on_update` either (see `PublisherLiveness.isGone`).
struct NginxStat: Sendable {
    /// `rtmp_stat` URL, with the internal token if there is one.
    let url: String
    let app: String

    /// Client ids publishing in the application, or nil when nginx cannot be asked.
    func publishingClients() -> Set<String>? {
        guard let answer = try? LoopbackHTTP.get(url), answer.status == 200 else { return nil }
        return NginxStat.publishingClients(in: answer.body, app: app)
    }

    /// Client ids with `<publishing/>` inside `<application><name>app</name>...</application>`; nil if the page is not rtmp_stat's.
    static func publishingClients(in xml: String, app: String) -> Set<String>? {
        guard xml.contains("<rtmp>") else { return nil }
        var clients: Set<String> = []
        for application in xml.components(separatedBy: "<application>").dropFirst() {
            guard application.hasPrefix("<name>\(app)</name>") else { continue }
            let body = application.components(separatedBy: "</application>")[0]
            for client in body.components(separatedBy: "<client>").dropFirst() {
                let fields = client.components(separatedBy: "</client>")[0]
                guard fields.contains("<publishing/>"), let id = value(of: "id", in: fields) else { continue }
                clients.insert(id)
            }
        }
        return clients
    }

    private static func value(of tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
