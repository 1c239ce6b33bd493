import Foundation
import LivestreamCore

/// A stream's origin and cache behaviour on the live distribution, and the edits that put them on or take them off.
///
/// The origin's id is the stream id and its domain the packager endpoint's host; the
/// cache behaviour sends `<endpoint path prefix>/*` to it for GET/HEAD/OPTIONS and
/// forwards the query strings MediaPackage reads (`aws.manifestfilter`, `start`, `end`,
/// `m`) and, as the old deployment did, the CORS request headers (web players on other
/// domains need MediaPackage's CORS answers). Edits change only the `Origins` and
/// `CacheBehaviors` lists and their counts.
struct StreamOrigin: Equatable {
    static let forwardedQueryStrings = ["aws.manifestfilter", "start", "end", "m"]

    let id: String
    let domain: String
    let https: Bool
    let port: Int?
    let pathPattern: String

    /// Request headers the cache behaviour forwards to the origin (and keys the cache on).
    var headers: [String]

    init(streamId: String, viewerEndpoint: String, forwardedHeaders: [String] = CloudFrontDistribution.Settings.corsRequestHeaders) throws(ServiceError) {
        headers = forwardedHeaders
        guard let url = URLComponents(string: viewerEndpoint), let host = url.host, !host.isEmpty, let scheme = url.scheme,
            ["http", "https"].contains(scheme)
        else {
            throw ServiceError.stateConflict("stream \(streamId) has no playback endpoint to put on the CDN")
        }
        var folder = url.path
        if let slash = folder.lastIndex(of: "/") { folder = String(folder[..<slash]) }
        id = streamId
        domain = host
        https = scheme == "https"
        port = url.port
        pathPattern = folder + "/*"
    }

    /// The `Origin` element.
    var origin: XMLTree.Element {
        XMLTree.Element("Origin", [
            .init("Id", text: id),
            .init("DomainName", text: domain),
            .init("OriginPath", text: ""),
            .init("CustomHeaders", [.init("Quantity", text: "0")]),
            .init("CustomOriginConfig", [
                .init("HTTPPort", text: String(https ? 80 : port ?? 80)),
                .init("HTTPSPort", text: String(https ? port ?? 443 : 443)),
                .init("OriginProtocolPolicy", text: https ? "https-only" : "http-only"),
                .init("OriginSslProtocols", [.init("Quantity", text: "1"), .init("Items", [.init("SslProtocol", text: "TLSv1.2")])]),
                .init("OriginReadTimeout", text: "30"),
                .init("OriginKeepaliveTimeout", text: "5"),
            ]),
            .init("ConnectionAttempts", text: "3"),
            .init("ConnectionTimeout", text: "10"),
        ])
    }

    /// The `CacheBehavior` element (legacy cache settings: self-contained, no policy to look up).
    var cacheBehavior: XMLTree.Element {
        func methods(_ names: [String]) -> [XMLTree.Element] {
            [.init("Quantity", text: String(names.count)), .init("Items", names.map { .init("Method", text: $0) })]
        }
        let keys = StreamOrigin.forwardedQueryStrings
        return XMLTree.Element("CacheBehavior", [
            .init("PathPattern", text: pathPattern),
            .init("TargetOriginId", text: id),
            .init("TrustedSigners", [.init("Enabled", text: "false"), .init("Quantity", text: "0")]),
            .init("ViewerProtocolPolicy", text: "redirect-to-https"),
            .init("AllowedMethods", methods(["GET", "HEAD", "OPTIONS"]) + [.init("CachedMethods", methods(["GET", "HEAD"]))]),
            .init("SmoothStreaming", text: "false"),
            .init("Compress", text: "true"),
            .init("ForwardedValues", [
                .init("QueryString", text: "true"),
                .init("Cookies", [.init("Forward", text: "none")]),
                .init("Headers", [.init("Quantity", text: String(headers.count)), .init("Items", headers.map { .init("Name", text: $0) })]),
                .init("QueryStringCacheKeys", [.init("Quantity", text: String(keys.count)), .init("Items", keys.map { .init("Name", text: $0) })]),
            ]),
            .init("MinTTL", text: "0"),
            .init("DefaultTTL", text: "5"),
            .init("MaxTTL", text: "86400"),
        ])
    }

    /// Adds (or corrects) the origin and the cache behaviour.
    /// - Returns: whether the config changed.
    /// - Throws: 409 `cdn_limit` when the distribution has no room left.
    func add(to config: inout XMLTree.Element, maxOrigins: Int, maxCacheBehaviors: Int) throws(ServiceError) -> Bool {
        let originChanged = try StreamOrigin.place(
            origin, in: &config, list: "Origins", insertAfter: nil, key: "Id", id: id, unchangedIf: { $0.child("DomainName")?.text == domain },
            limit: maxOrigins, limitName: "origins")
        // First in the list: CloudFront takes the first behaviour whose pattern matches, and a site's
        // broader pattern (`*.m3u8`, `/out/*`) placed before ours would take the stream's requests.
        let behaviourChanged = try StreamOrigin.place(
            cacheBehavior, in: &config, list: "CacheBehaviors", insertAfter: "DefaultCacheBehavior", key: "TargetOriginId", id: id,
            unchangedIf: { $0.child("PathPattern")?.text == pathPattern }, limit: maxCacheBehaviors, limitName: "cache behaviours", first: true)
        return originChanged || behaviourChanged
    }

    /// Makes `element` the one item of `list` whose `key` is `id`, unless the single one there already passes `unchangedIf`.
    /// - Returns: whether the list changed.
    /// - Throws: 409 `cdn_limit` when the list is full.
    private static func place(
        _ element: XMLTree.Element, in config: inout XMLTree.Element, list: String, insertAfter anchor: String?, key: String, id: String,
        unchangedIf isCurrent: (XMLTree.Element) -> Bool, limit: Int, limitName: String, first: Bool = false
    ) throws(ServiceError) -> Bool {
        var changed = false
        var full = false
        editList(in: &config, list: list, insertAfter: anchor) { items in
            let isMine = { (item: XMLTree.Element) in item.name == element.name && item.child(key)?.text == id }
            let mine = items.elements.filter(isMine)
            if mine.count == 1, isCurrent(mine[0]) { return }
            items.removeElements(where: isMine)
            guard items.elements.count < limit else {
                full = true
                return
            }
            if first { items.prepend(element) } else { items.append(element) }
            changed = true
        }
        if full { throw ServiceError(.conflict, code: "cdn_limit", "the live distribution already has \(limit) \(limitName) (CloudFront's limit)") }
        return changed
    }

    /// Removes the stream's origin and every cache behaviour aimed at it.
    /// - Returns: whether the config changed.
    static func remove(streamId id: String, from config: inout XMLTree.Element) -> Bool {
        var changed = false
        for (list, item, key) in [("CacheBehaviors", "CacheBehavior", "TargetOriginId"), ("Origins", "Origin", "Id")] {
            guard config.child(list) != nil else { continue }
            editList(in: &config, list: list, insertAfter: nil) { items in
                let before = items.elements.count
                items.removeElements { $0.name == item && $0.child(key)?.text == id }
                changed = changed || items.elements.count != before
            }
        }
        return changed
    }

    /// Runs `change` on `<list><Items>` (created when missing) and sets `<Quantity>` to the item count.
    /// An emptied `Items` is dropped, as CloudFront writes an empty list, so add + remove restores the document.
    private static func editList(in config: inout XMLTree.Element, list: String, insertAfter anchor: String?, _ change: (inout XMLTree.Element) -> Void) {
        if config.child(list) == nil {
            let element = XMLTree.Element(list, [.init("Quantity", text: "0")])
            if let anchor, let index = config.children.firstIndex(where: { if case .element(let e) = $0 { e.name == anchor } else { false } }) {
                config.children.insert(.element(element), at: index + 1)
            } else {
                config.append(element)
            }
        }
        config.modifyChild(list) { listElement in
            let hadItems = listElement.child("Items") != nil
            if !hadItems { listElement.append(XMLTree.Element(name: "Items")) }
            var count = 0
            listElement.modifyChild("Items") { items in
                change(&items)
                count = items.elements.count
            }
            if count == 0 { listElement.removeElements { $0.name == "Items" } }
            listElement.modifyChild("Quantity") { $0.children = [.text(String(count))] }
        }
    }
}
