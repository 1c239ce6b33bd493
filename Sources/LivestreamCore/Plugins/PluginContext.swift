import Logging

/// What a plugin factory receives: configuration, a logger, and the seams built before it.
///
/// Seams are built in the order storage, archive, splitter, cdn, media, so a media
/// plugin can reach the store and the archive (the local pipeline's hooks need both).
public struct PluginContext: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    /// The chosen backend name of every seam.
    public let backends: [PluginSeam: String]
    public let store: (any StreamStore)?
    public let archive: (any ArchiveStore)?
    /// `livestreamd check-config`: check everything the plugin needs, change nothing (create no
    /// directory, start no thread); the plugin may return a stand-in that is never used.
    public let checkOnly: Bool

    public init(
        configuration: Configuration, logger: Logger, backends: [PluginSeam: String],
        store: (any StreamStore)? = nil, archive: (any ArchiveStore)? = nil, checkOnly: Bool = false
    ) {
        self.checkOnly = checkOnly
        self.configuration = configuration
        self.logger = logger
        self.backends = backends
        self.store = store
        self.archive = archive
    }
}
