import LivestreamCore

/// CDN plugin `none`: association is bookkeeping only; viewers use the packager's URL.
public struct NoLiveDistribution: LiveDistribution {
    public init() {}

    public func cdnViewerEndpoint(for viewerEndpoint: String) -> String { viewerEndpoint }
    public func associate(_ record: StreamRecord) throws {}
    public func dissociate(_ record: StreamRecord) throws {}
}

/// Registers CDN plugin `none`.
public enum NoCDNPlugin {
    public static func register(in registry: inout PluginRegistry) {
        registry.registerCDN("none", summary: "no CDN: live association is bookkeeping, viewer_endpoint_cloudfront = viewer_endpoint") { _ in
            NoLiveDistribution()
        }
    }
}
