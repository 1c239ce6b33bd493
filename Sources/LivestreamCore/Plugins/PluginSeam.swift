/// The places where a backend is chosen by configuration (`<seam>.backend`).
public enum PluginSeam: String, Sendable, CaseIterable {
    case storage
    case cdn
    case media
    case archive
    case splitter

    /// The backend used when the configuration names none: everything on this host.
    public var defaultBackend: String {
        switch self {
        case .storage: "file"
        case .cdn: "none"
        case .media: "local"
        case .archive: "file"
        case .splitter: "hls"
        }
    }
}
