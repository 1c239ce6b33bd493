import Logging

/// Plugins by seam and name; the executable registers them and builds one per seam.
///
/// Like swift-log's bootstrap, selection happens once at start-up: `build` reads
/// `<seam>.backend` for every seam and calls that plugin's factory. An unknown name
/// or a bad option stops start-up with a message listing what is available.
public struct PluginRegistry: Sendable {
    /// A registered plugin: its name, summary and options.
    public struct Entry: Sendable {
        public let seam: PluginSeam
        public let name: String
        public let summary: String
        public let options: [ConfigOption]
    }

    private var entries: [Entry] = []
    private var storage: [String: @Sendable (PluginContext) throws -> any StreamStore] = [:]
    private var cdn: [String: @Sendable (PluginContext) throws -> any LiveDistribution] = [:]
    private var media: [String: @Sendable (PluginContext) throws -> any MediaPipeline] = [:]
    private var archive: [String: @Sendable (PluginContext) throws -> any ArchiveStore] = [:]
    private var splitter: [String: @Sendable (PluginContext) throws -> any ArchiveSplitter] = [:]

    public init() {}

    /// Every registered plugin, by seam then name.
    public var plugins: [Entry] {
        entries.sorted { ($0.seam.rawValue, $0.name) < ($1.seam.rawValue, $1.name) }
    }

    /// Names registered for a seam.
    public func names(for seam: PluginSeam) -> [String] {
        entries.filter { $0.seam == seam }.map(\.name).sorted()
    }

    public mutating func registerStorage(
        _ name: String, summary: String, options: [ConfigOption] = [],
        factory: @escaping @Sendable (PluginContext) throws -> any StreamStore
    ) {
        add(.storage, name, summary, options)
        storage[name] = factory
    }

    public mutating func registerCDN(
        _ name: String, summary: String, options: [ConfigOption] = [],
        factory: @escaping @Sendable (PluginContext) throws -> any LiveDistribution
    ) {
        add(.cdn, name, summary, options)
        cdn[name] = factory
    }

    public mutating func registerMedia(
        _ name: String, summary: String, options: [ConfigOption] = [],
        factory: @escaping @Sendable (PluginContext) throws -> any MediaPipeline
    ) {
        add(.media, name, summary, options)
        media[name] = factory
    }

    public mutating func registerArchive(
        _ name: String, summary: String, options: [ConfigOption] = [],
        factory: @escaping @Sendable (PluginContext) throws -> any ArchiveStore
    ) {
        add(.archive, name, summary, options)
        archive[name] = factory
    }

    public mutating func registerSplitter(
        _ name: String, summary: String, options: [ConfigOption] = [],
        factory: @escaping @Sendable (PluginContext) throws -> any ArchiveSplitter
    ) {
        add(.splitter, name, summary, options)
        splitter[name] = factory
    }

    private mutating func add(_ seam: PluginSeam, _ name: String, _ summary: String, _ options: [ConfigOption]) {
        precondition(!entries.contains { $0.seam == seam && $0.name == name }, "\(seam.rawValue) plugin \(name) registered twice")
        entries.append(Entry(seam: seam, name: name, summary: summary, options: options))
    }

    /// The `<seam>.backend` options (choices = registered names) and every plugin's options.
    ///
    /// Options several plugins share (the `aws.*` keys) appear once.
    public var options: [ConfigOption] {
        var seen: Set<String> = []
        return (PluginSeam.allCases.map { seam in
            ConfigOption(
                "\(seam.rawValue).backend", .choice(names(for: seam)), default: seam.defaultBackend,
                help: "\(seam.rawValue) plugin: \(names(for: seam).joined(separator: " | "))")
        } + plugins.flatMap(\.options)).filter { seen.insert($0.key).inserted }
    }

    /// Builds only the storage plugin named by `storage.backend` (for `livestreamd storage copy`).
    public func buildStorage(configuration: Configuration, logger: Logger) throws -> any StreamStore {
        let name = configuration.string("storage.backend") ?? PluginSeam.storage.defaultBackend
        guard let factory = storage[name] else {
            throw ConfigurationError("unknown storage backend '\(name)'; available: \(names(for: .storage).joined(separator: ", "))")
        }
        let backends = Dictionary(uniqueKeysWithValues: PluginSeam.allCases.map { ($0, configuration.string("\($0.rawValue).backend") ?? $0.defaultBackend) })
        do {
            return try factory(PluginContext(configuration: configuration, logger: logger, backends: backends))
        } catch let error as ConfigurationError {
            throw ConfigurationError("storage backend '\(name)': \(error.message)")
        }
    }

    /// Builds the chosen plugin of every seam.
    /// - Parameter checkOnly: check, change nothing (`PluginContext.checkOnly`).
    public func build(configuration: Configuration, logger: Logger, checkOnly: Bool = false) throws -> Backends {
        var backends: [PluginSeam: String] = [:]
        for seam in PluginSeam.allCases {
            backends[seam] = configuration.string("\(seam.rawValue).backend") ?? seam.defaultBackend
        }
        func context(store: (any StreamStore)? = nil, archive: (any ArchiveStore)? = nil) -> PluginContext {
            PluginContext(configuration: configuration, logger: logger, backends: backends, store: store, archive: archive, checkOnly: checkOnly)
        }
        func make<T>(_ seam: PluginSeam, _ factories: [String: @Sendable (PluginContext) throws -> T], _ ctx: PluginContext) throws -> T {
            let name = backends[seam]!
            guard let factory = factories[name] else {
                throw ConfigurationError(
                    "unknown \(seam.rawValue) backend '\(name)'; available: \(names(for: seam).joined(separator: ", "))")
            }
            do {
                return try factory(ctx)
            } catch let error as ConfigurationError {
                throw ConfigurationError("\(seam.rawValue) backend '\(name)': \(error.message)")
            }
        }
        let store = try make(.storage, storage, context())
        let archiveStore = try make(.archive, archive, context(store: store))
        let splitterPlugin = try make(.splitter, splitter, context(store: store, archive: archiveStore))
        let cdnPlugin = try make(.cdn, cdn, context(store: store, archive: archiveStore))
        let mediaPlugin = try make(.media, media, context(store: store, archive: archiveStore))
        return Backends(store: store, cdn: cdnPlugin, media: mediaPlugin, archive: archiveStore, splitter: splitterPlugin)
    }
}

/// One plugin per seam, as chosen by configuration.
public struct Backends: Sendable {
    public let store: any StreamStore
    public let cdn: any LiveDistribution
    public let media: any MediaPipeline
    public let archive: any ArchiveStore
    public let splitter: any ArchiveSplitter

    public init(store: any StreamStore, cdn: any LiveDistribution, media: any MediaPipeline, archive: any ArchiveStore, splitter: any ArchiveSplitter) {
        self.store = store
        self.cdn = cdn
        self.media = media
        self.archive = archive
        self.splitter = splitter
    }
}
