import FastCGIServer
import Foundation
import LivestreamAPI
import LivestreamCore
import LogOutput
import Logging
import Webhooks

/// Start-up, serving and shutdown of the service.
enum Service {
    /// The release; `make install` and the package carry it.
    static let version = "0.13.0"

    static func main() -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions(arguments: CommandLine.arguments, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("livestreamd: \(error)\n".utf8))
            return 2
        }
        let registry = makeRegistry()
        switch options.command {
        case .help:
            print(CommandLineOptions.usage)
            return 0
        case .version:
            print("livestreamd \(Service.version)")
            return 0
        case .plugins:
            print(describe(registry))
            return 0
        case .storageCopy:
            guard let from = options.copyFrom, let to = options.copyTo else {
                FileHandle.standardError.write(Data("usage: livestreamd storage copy --from CONFIG_A --to CONFIG_B\n".utf8))
                return 2
            }
            LogLines.level = .warning
            LoggingSystem.bootstrap { LineLogHandler(label: $0) }
            return StorageCopy.main(from: from, to: to, registry: registry, environment: environment, logger: Logger(label: "livestreamd"))
        case .serve, .checkConfig, .iamPolicy, .nginxConfig, .doctor:
            break
        }
        if options.command == .serve {
            // Before any thread starts (plugins start some), so that every thread inherits the
            // mask and the signals reach the thread waiting for them, not a handler libfcgi installs.
            signal(SIGPIPE, SIG_IGN)
            var blocked = handledSignals
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
        }

        let configuration: Configuration
        do {
            configuration = try Configuration.load(path: options.configPath, options: ServiceOptions.all + registry.options, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("livestreamd: configuration: \(error)\n".utf8))
            return 2
        }
        if options.command == .nginxConfig {
            guard let out = options.outDirectory else {
                FileHandle.standardError.write(Data("usage: livestreamd nginx-config --out DIR [--config FILE]\n".utf8))
                return 2
            }
            return NginxConfig.run(configuration: configuration, out: out, executable: Upgrade.currentExecutable())
        }
        if options.command == .doctor {
            LogLines.level = .critical  // the findings are the output
            LoggingSystem.bootstrap { LineLogHandler(label: $0) }
            return Doctor.run(configuration: configuration, registry: registry, nginxUser: options.nginxUser, nginxConf: options.nginxConf)
        }
        if options.command == .iamPolicy {
            return IAMPolicyCommand.run(configuration: configuration, account: options.account, environment: environment)
        }
        ServiceOptions.applyLogSettings(configuration, environment: environment)
        if options.command == .serve, let file = configuration.string("log.file"), !file.isEmpty {
            do {
                try LogLines.redirect(to: file)
            } catch {
                FileHandle.standardError.write(Data("livestreamd: \(error)\n".utf8))
                return 2
            }
        }
        LoggingSystem.bootstrap { LineLogHandler(label: $0) }
        let logger = Logger(label: "livestreamd")

        let problems = ServiceOptions.problems(configuration)
        if !problems.isEmpty {
            for problem in problems { logger.critical("cannot start: \(problem)") }
            return 2
        }
        if options.command == .serve { ServiceMetricsBackend.bootstrap(configuration) }
        let backends: Backends
        do {
            backends = try registry.build(configuration: configuration, logger: logger, checkOnly: options.command == .checkConfig)
        } catch {
            logger.critical("cannot start: \(error)")
            return 2
        }
        if options.command == .checkConfig {
            for (key, value) in configuration.redactedDescription { print("\(key) = \(value)") }
            return 0
        }
        let reload = ConfigurationReload(
            path: options.configPath, options: ServiceOptions.all + registry.options, environment: environment, current: configuration, logger: logger)
        return serve(configuration: configuration, backends: backends, reload: reload, environment: environment, logger: logger)
    }

    /// The signals one thread takes synchronously (`sigwait`): TERM and INT stop, HUP reloads, USR2 upgrades.
    static let handledSignals: sigset_t = {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR2] { sigaddset(&signals, signal) }
        return signals
    }()

    static func serve(configuration: Configuration, backends: Backends, reload: ConfigurationReload, environment: [String: String], logger: Logger) -> Int32 {
        let controller = StreamController(backends: backends, logger: logger)
        var delivery: WebhookDelivery?
        var webhookStatus: (@Sendable () throws -> JSONValue)?
        if let settings = try? WebhookSettings.from(configuration) {
            guard let journal = backends.store.events else {
                logger.critical("cannot start: events.webhooks.url is set, but the storage backend keeps no event journal")
                return 2
            }
            let work = WebhookDelivery(settings: settings, journal: journal, logger: logger)
            work.prepare()
            delivery = work
            webhookStatus = { try work.status() }
        }
        let api = StreamAPI(
            controller: controller,
            configuration: APIConfiguration(
                prefix: configuration.string("server.api_prefix") ?? "", corsOrigin: configuration.string("server.cors_origin") ?? "*",
                apiTokens: configuration.list("server.api_tokens")),
            internalEndpoints: backends.media.internalEndpoints, logger: logger, metrics: ServiceMetricsBackend.scrape,
            webhooks: webhookStatus)

        let listener: FastCGIServerConfiguration.Listener
        var predecessor: Int32?
        if let inherited = Upgrade.inherited(environment: environment) {
            (listener, predecessor) = (inherited.listener, inherited.channel)
        } else if let activated = systemdSocket(environment: environment) {
            listener = .inherited(fd: activated)
            // nginx's snippets (livestreamd nginx-config) and doctor go by server.socket.
            if let configured = configuration.string("server.socket"), !configured.isEmpty, let passed = listener.unixPath, passed != configured {
                logger.warning(
                    "systemd passed the socket \(passed), but server.socket is \(configured): nginx's snippets from livestreamd nginx-config connect to server.socket; make the socket unit's ListenStream and server.socket agree")
            }
        } else if let path = configuration.string("server.socket"), !path.isEmpty, let mode = ServiceOptions.socketMode(configuration) {
            do {
                try FileManager.default.createDirectory(atPath: ServiceOptions.socketFolder(path), withIntermediateDirectories: true)
            } catch {
                logger.critical("cannot start: cannot create the folder of server.socket \(path): \(error.localizedDescription)")
                return 2
            }
            listener = .unixSocket(path: path, mode: mode)
        } else {
            listener = .inherited(fd: 0)
        }
        let server: FastCGIServer
        do {
            server = try FastCGIServer(
                configuration: FastCGIServerConfiguration(
                    listener: listener, workers: configuration.int("server.workers"), maxBodyBytes: configuration.int("server.max_body_bytes"),
                    readTimeoutMilliseconds: configuration.int("server.read_timeout_ms"), writeTimeoutMilliseconds: configuration.int("server.write_timeout_ms"),
                    idleTimeoutMilliseconds: configuration.int("server.idle_timeout_ms"), maxConnections: configuration.int("server.max_connections"),
                    predecessorChannel: predecessor, hooks: WorkerHooks(started: LogLines.deferWrites, hasDeferredWork: { LogLines.hasPending }, beforeWaiting: LogLines.flush)),
                responder: APIResponder(api: api), logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            return 2
        }

        let upgrade = Upgrade(
            executable: Upgrade.currentExecutable(), arguments: Array(CommandLine.arguments.dropFirst()),
            ownsSocket: { if case .unixSocket = listener { true } else if case .handedOver(_, let owned) = listener { owned } else { false } }(),
            logger: logger)
        let signalThread = Thread { @Sendable in
            var waitFor = handledSignals
            var caught: Int32 = 0
            while sigwait(&waitFor, &caught) == 0 {
                switch caught {
                case SIGHUP:
                    reload.reload()
                case SIGUSR2:
                    upgrade.begin(server)
                default:
                    logger.notice("shutting down", metadata: ["signal": "\(caught)"])
                    SystemdNotify.send("STOPPING=1")
                    server.shutdown()
                    return
                }
            }
        }
        signalThread.start()
        let maintenance = backends.media.maintenance.map { MaintenanceLoop(work: $0) }
        maintenance?.start()
        let webhookLoop = delivery.map { MaintenanceLoop(work: $0, name: "webhooks") }
        webhookLoop?.start()
        let drained = server.run(drainTimeout: .milliseconds(4500)) { SystemdNotify.send("READY=1\nMAINPID=\(getpid())") }
        if !drained { logger.warning("exiting with requests still in flight") }
        if let maintenance, !maintenance.stop(timeout: .seconds(3)) {
            logger.warning("exiting with a maintenance round still running (its work stays in the journal)")
        }
        if let webhookLoop {
            if webhookLoop.stop(timeout: .seconds(3)) {
                delivery?.release()
            } else {
                logger.warning("exiting with a webhook delivery in flight (it is sent again, with the same webhook-id, after the restart)")
            }
        }
        logger.notice("stopped", metadata: ["pid": "\(getpid())"])
        return 0
    }

    /// The listening socket systemd passed (socket activation), if it passed one to this process.
    static func systemdSocket(environment: [String: String]) -> Int32? {
        guard let pid = environment["LISTEN_PID"].flatMap({ Int32($0) }), pid == getpid(),
            let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count >= 1
        else { return nil }
        return 3
    }

    static func describe(_ registry: PluginRegistry) -> String {
        var lines: [String] = []
        for seam in PluginSeam.allCases {
            lines.append("\(seam.rawValue) (\(seam.rawValue).backend, default \(seam.defaultBackend)):")
            for entry in registry.plugins where entry.seam == seam {
                lines.append("  \(entry.name): \(entry.summary)")
                for option in entry.options {
                    lines.append("    \(option.key) [\(option.environmentVariable)] default \(option.defaultValue ?? "unset"): \(option.help)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
