import Foundation
import LivestreamCore
import Logging

/// `livestreamd storage copy --from A --to B`: every record of one storage backend into another.
///
/// Idempotent: a record already equal in the target is left alone, a different one is
/// replaced (compare-and-set on the target's version), a missing one is created.
enum StorageCopy {
    struct Report {
        var created = 0
        var updated = 0
        var unchanged = 0
        var failed: [(id: String, reason: String)] = []
    }

    static func run(from source: any StreamStore, to target: any StreamStore) throws -> Report {
        var report = Report()
        for record in try source.list(limit: nil, after: nil).records {
            do {
                if let existing = try target.get(id: record.id) {
                    var incoming = record
                    incoming.version = existing.version
                    if incoming == existing {
                        report.unchanged += 1
                    } else {
                        _ = try target.replace(incoming)
                        report.updated += 1
                    }
                } else {
                    _ = try target.create(record)
                    report.created += 1
                }
            } catch {
                report.failed.append((record.id, "\(error)"))
            }
        }
        for problem in source.problems { report.failed.append((problem.location, "unreadable in the source: \(problem.reason)")) }
        return report
    }

    /// Runs the command; returns the exit status.
    static func main(from: String, to: String, registry: PluginRegistry, environment: [String: String], logger: Logger) -> Int32 {
        do {
            let options = ServiceOptions.all + registry.options
            let source = try registry.buildStorage(configuration: try Configuration.load(path: from, options: options, environment: [:]), logger: logger)
            let target = try registry.buildStorage(configuration: try Configuration.load(path: to, options: options, environment: [:]), logger: logger)
            let report = try run(from: source, to: target)
            print("created \(report.created), updated \(report.updated), unchanged \(report.unchanged), failed \(report.failed.count)")
            for failure in report.failed { print("failed: \(failure.id): \(failure.reason)") }
            return report.failed.isEmpty ? 0 : 1
        } catch {
            FileHandle.standardError.write(Data("livestreamd storage copy: \(error)\n".utf8))
            return 2
        }
    }
}
