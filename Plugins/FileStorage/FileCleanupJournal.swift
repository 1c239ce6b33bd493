import Foundation
import LivestreamCore

/// The file store's `CleanupJournal`: one JSON document per pending cleanup in `<directory>/.cleanups/`.
///
/// Written atomically like the records; the leading dot keeps the folder out of record listings.
final class FileCleanupJournal: CleanupJournal {
    let directory: String

    init(storeDirectory: String) throws {
        directory = storeDirectory + "/.cleanups"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    func save(_ cleanup: PendingCleanup) throws {
        try FileIO.writeAtomically(cleanup.jsonValue.serialized(), to: path(cleanup.id), directory: directory)
    }

    func pending() throws -> [PendingCleanup] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var cleanups: [PendingCleanup] = []
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            guard let bytes = try FileIO.read(directory + "/" + name), let value = try? JSONValue.parse(bytes),
                let cleanup = PendingCleanup(jsonValue: value), name == cleanup.id + ".json"
            else { continue }
            cleanups.append(cleanup)
        }
        return cleanups.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    func finish(id: String) throws {
        guard Identifier.isValid(id) else { return }
        if unlink(path(id)) != 0 && errno != ENOENT { throw FileIO.failure("delete cleanup \(id)") }
        try FileIO.syncDirectory(directory)
    }

    private func path(_ id: String) -> String { directory + "/" + id + ".json" }
}
