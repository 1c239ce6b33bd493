import LivestreamCore
import LogOutput
import Logging

/// SIGHUP: reopen the log file and re-read the configuration where that is safe.
///
/// `log.level`, `log.format` and `log.file` take effect at once; every other changed key is named in
/// the log as needing a restart (or an upgrade, SIGUSR2). A configuration that no longer
/// loads is reported and the running one kept.
final class ConfigurationReload: @unchecked Sendable {
    private let path: String?
    private let options: [ConfigOption]
    private let environment: [String: String]
    private let logger: Logger
    /// Only the signal thread touches it.
    private var current: Configuration

    init(path: String?, options: [ConfigOption], environment: [String: String], current: Configuration, logger: Logger) {
        self.path = path
        self.options = options
        self.environment = environment
        self.current = current
        self.logger = logger
    }

    func reload() {
        let next: Configuration
        do {
            next = try Configuration.load(path: path, options: options, environment: environment)
        } catch {
            reopenLog(current)
            logger.error("SIGHUP: the configuration does not load; keeping the running one", metadata: ["error": "\(error)"])
            return
        }
        reopenLog(next)
        ServiceOptions.applyLogSettings(next, environment: environment)
        let before = Dictionary(current.redactedDescription.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let changed = next.redactedDescription.filter { before[$0.key] != $0.value && !$0.key.hasPrefix("log.") }.map(\.key)
        current = next
        if changed.isEmpty {
            logger.notice("SIGHUP: log reopened, configuration re-read")
        } else {
            logger.warning("SIGHUP: log reopened, configuration re-read; these changes apply at the next start or upgrade", metadata: ["keys": "\(changed.joined(separator: ","))"])
        }
    }

    private func reopenLog(_ configuration: Configuration) {
        guard let file = configuration.string("log.file"), !file.isEmpty else { return }
        do {
            try LogLines.redirect(to: file)
        } catch {
            logger.error("SIGHUP: \(error); logging on to the previous file")
        }
    }
}
