import LivestreamCore
import Logging
import TestSupport
import Testing

struct ConfigurationTests {
    static let options = [
        ConfigOption("storage.file.directory", .string, default: "var/streams", help: ""),
        ConfigOption("server.workers", .integer(1...1024), default: "32", help: ""),
        ConfigOption("server.api_tokens", .stringList, default: nil, help: "", isSecret: true),
        ConfigOption("log.verbose", .boolean, default: "false", help: ""),
        ConfigOption("storage.backend", .choice(["file", "dynamodb"]), default: "file", help: ""),
    ]

    @Test func environmentOverridesFileOverridesDefault() throws {
        let file: JSONValue = ["storage": ["file": ["directory": "/from/file"]], "server": ["workers": 8]]
        let config = try Configuration(options: Self.options, file: file, environment: ["LIVESTREAM_SERVER_WORKERS": "64"])
        #expect(config.string("storage.file.directory") == "/from/file")
        #expect(config.int("server.workers") == 64)
        #expect(config.bool("log.verbose") == false)
        #expect(config.list("server.api_tokens") == [])
        #expect(ConfigOption("storage.file.directory", .string, default: nil, help: "").environmentVariable == "LIVESTREAM_STORAGE_FILE_DIRECTORY")
    }

    @Test func listsComeFromArraysOrCommas() throws {
        let fromFile = try Configuration(options: Self.options, file: ["server": ["api_tokens": ["a", "b"]]])
        #expect(fromFile.list("server.api_tokens") == ["a", "b"])
        let fromEnvironment = try Configuration(options: Self.options, environment: ["LIVESTREAM_SERVER_API_TOKENS": "a, b,"])
        #expect(fromEnvironment.list("server.api_tokens") == ["a", "b"])
        #expect(fromEnvironment.redactedDescription.first { $0.key == "server.api_tokens" }?.value == "<redacted>")
    }

    @Test func unknownKeysListWhatIsAvailable() {
        #expect {
            try Configuration(options: Self.options, file: ["storage": ["file": ["dir": "x"]]])
        } throws: { error in
            let message = (error as? ConfigurationError)?.message ?? ""
            return message.contains("'storage.file.dir'") && message.contains("storage.file.directory") && message.contains("storage.backend")
        }
    }

    @Test func everyProblemIsReportedAtOnceAndMisspeltVariablesAreRefused() {
        let environment = ["LIVESTREAM_STORGE_BACKEND": "dynamodb", "LIVESTREAM_SERVER_WORKERS": "0", "LIVESTREAM_CONFIG": "/etc/x.json", "PATH": "/bin"]
        #expect {
            try Configuration(options: Self.options, file: ["storage": ["backend": "tape"], "volume": 11], environment: environment)
        } throws: { error in
            let lines = "\(error)".split(separator: "\n").map(String.init)
            return lines.count == 4 && lines.contains("unknown configuration key 'volume'")
                && lines.contains("unknown environment variable LIVESTREAM_STORGE_BACKEND; did you mean LIVESTREAM_STORAGE_BACKEND?")
                && lines.contains { $0.hasPrefix("server.workers must be an integer") } && lines.contains { $0.hasPrefix("storage.backend is 'tape'") }
        }
    }

    @Test func aBrokenFileIsPlacedByLineAndColumn() throws {
        let folder = TemporaryFolder(prefix: "config")
        let path = try folder.write("{\n  \"server\": {\n    \"workers\": 8,,\n  }\n}\n", "bad.json")
        #expect { try Configuration.load(path: path, options: Self.options, environment: [:]) } throws: { "\($0)".hasSuffix("at line 3, column 18") }
    }

    @Test func badValuesNameTheKey() {
        #expect(throws: ConfigurationError("server.workers must be an integer in 1...1024 (LIVESTREAM_SERVER_WORKERS)")) {
            try Configuration(options: Self.options, environment: ["LIVESTREAM_SERVER_WORKERS": "0"])
        }
        #expect(throws: ConfigurationError("storage.backend is 's3' (file); available: file, dynamodb")) {
            try Configuration(options: Self.options, file: ["storage": ["backend": "s3"]])
        }
        #expect(throws: ConfigurationError.self) { try Configuration(options: Self.options, file: ["server": ["workers": "many"]]) }
        #expect(throws: ConfigurationError.self) { try Configuration(options: Self.options, file: ["log": ["verbose": 1]]) }
        #expect(throws: ConfigurationError.self) { try Configuration(options: Self.options, file: .array([])) }
    }
}

struct PluginRegistryTests {
    func registry() -> PluginRegistry {
        var registry = PluginRegistry()
        registry.registerStorage("memory", summary: "", options: [ConfigOption("storage.memory.size", .integer(1...10), default: "1", help: "")]) { _ in MemoryStreamStore() }
        registry.registerArchive("memory", summary: "") { _ in MemoryArchiveStore() }
        registry.registerSplitter("hls", summary: "") { _ in FixedSplitter() }
        registry.registerCDN("none", summary: "") { _ in PassThroughDistribution() }
        registry.registerMedia("recording", summary: "") { context in
            #expect(context.store != nil && context.archive != nil)
            return RecordingMediaPipeline()
        }
        registry.registerMedia("broken", summary: "") { _ in throw ConfigurationError("needs x") }
        return registry
    }

    func configuration(_ registry: PluginRegistry, _ environment: [String: String]) throws -> Configuration {
        try Configuration(options: registry.options, environment: environment)
    }

    @Test func buildsThePluginNamedForEachSeam() throws {
        let registry = registry()
        let environment = ["LIVESTREAM_STORAGE_BACKEND": "memory", "LIVESTREAM_ARCHIVE_BACKEND": "memory", "LIVESTREAM_MEDIA_BACKEND": "recording"]
        let backends = try registry.build(configuration: try configuration(registry, environment), logger: Logger(label: "test"))
        #expect(backends.media is RecordingMediaPipeline)
        #expect(backends.store is MemoryStreamStore)
    }

    @Test func unknownNamesListTheAvailableOnes() throws {
        let registry = registry()
        #expect(throws: ConfigurationError("media.backend is 'medialive' (LIVESTREAM_MEDIA_BACKEND); available: broken, recording")) {
            try configuration(registry, ["LIVESTREAM_STORAGE_BACKEND": "memory", "LIVESTREAM_ARCHIVE_BACKEND": "memory", "LIVESTREAM_MEDIA_BACKEND": "medialive"])
        }
    }

    @Test func aFailingFactoryNamesItsPlugin() throws {
        let registry = registry()
        let environment = ["LIVESTREAM_STORAGE_BACKEND": "memory", "LIVESTREAM_ARCHIVE_BACKEND": "memory", "LIVESTREAM_MEDIA_BACKEND": "broken"]
        #expect(throws: ConfigurationError("media backend 'broken': needs x")) {
            try registry.build(configuration: try configuration(registry, environment), logger: Logger(label: "test"))
        }
    }
}
