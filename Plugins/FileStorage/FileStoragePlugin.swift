import LivestreamCore

/// Registers storage plugin `file`.
public enum FileStoragePlugin {
    public static let options = [
        ConfigOption("storage.file.directory", .string, default: "var/streams", help: "directory holding one JSON document per stream"),
    ]

    public static func register(in registry: inout PluginRegistry) {
        registry.registerStorage("file", summary: "one JSON document per stream in a directory (atomic replace, flock compare-and-set)", options: options) { context in
            let directory = try context.configuration.requiredString("storage.file.directory")
            if context.checkOnly {
                if let problem = DirectoryCheck.problem(directory, what: "the storage directory") { throw ConfigurationError(problem) }
                return MemoryStreamStore()
            }
            let days = context.configuration.int("events.retention_days")
            return try FileStreamStore(directory: directory, logger: context.logger, eventRetention: .seconds((days > 0 ? days : 30) * 86400))
        }
    }
}
