import LivestreamCore

/// The last rendered `GET /streams` body, reused while the store reports the same revision.
///
/// A listing of many streams is large to render; dashboards poll it. Only pages whose
/// store vouches for their contents (`StreamPage.revision`) are reused.
final class RenderedLists: Sendable {
    private let last = ReadMostly<(key: String, body: [UInt8])?>(nil)

    func body(for page: StreamPage, key query: String, render: () -> [UInt8]) -> [UInt8] {
        guard let revision = page.revision else { return render() }
        let key = revision + "|" + query
        if let hit = last.read({ $0?.key == key ? $0?.body : nil }) { return hit }
        let body = render()
        last.write { $0 = (key, body) }
        return body
    }
}
