import Foundation
import LivestreamCore
import Logging

/// The local pipeline's background round: stalled archives and old live folders.
///
/// - A stream whose encoder publishes but whose archive got no new segment (nor segment
///   list entry) for 2 x `segment_length` is logged as a warning, once per stall.
/// - Live HLS folders of streams that are stopped (or deleted) are removed once nothing
///   was written to them for `keep` (nginx-rtmp never removes them).
final class LocalMaintenance: MaintenanceWork, @unchecked Sendable {
    let wakeup = MaintenanceWakeup()
    private let store: any StreamStore
    private let folders: LiveFolders
    private let liveness: PublisherLiveness
    private let keep: Duration
    private let logger: Logger
    /// (stream, pipeline) already warned about; only the maintenance thread touches it.
    private var warned: Set<String> = []

    init(store: any StreamStore, folders: LiveFolders, liveness: PublisherLiveness, keep: Duration, logger: Logger) {
        self.store = store
        self.folders = folders
        self.liveness = liveness
        self.keep = keep
        self.logger = logger
    }

    func runRound() -> Duration {
        do {
            let records = try store.list(limit: nil, after: nil).records
            checkArchives(records)
            for folder in folders.staleFolders(of: records, olderThan: keep) {
                folders.removeFolder(named: folder)
                logger.info("removed the live folder of a stopped stream", metadata: ["folder": "\(folder)"])
            }
        } catch {
            logger.warning("local pipeline maintenance failed; retrying", metadata: ["error": "\(error)"])
        }
        return .seconds(30)
    }

    /// (stream id, pipeline) of publishing streams whose archive has stalled, as of `now`.
    func stalledArchives(_ records: [StreamRecord], now: Date = Date()) -> [(String, Int)] {
        var stalled: [(String, Int)] = []
        for record in records where record.started {
            guard let session = record.currentSessionId, let root = record.archivesPath[session], root.hasPrefix("file://") else { continue }
            let folder = String(root.dropFirst("file://".count))
            let limit = TimeInterval(2 * record.segmentLength)
            for (pipeline, client) in Publishers(record.mediaState).clients {
                // Give a new publisher (and its archiver) time for its first segment.
                guard let since = liveness.firstSeen(client), now.timeIntervalSince(since) > limit else { continue }
                let written = FileTimes.entries(of: folder).filter { $0.hasPrefix(folder + "/_\(pipeline)-") }
                let newest = FileTimes.newest(written) ?? since
                if now.timeIntervalSince(newest) > limit { stalled.append((record.id, pipeline)) }
            }
        }
        return stalled
    }

    private func checkArchives(_ records: [StreamRecord]) {
        let stalled = stalledArchives(records)
        let keys = Set(stalled.map { "\($0.0)#\($0.1)" })
        for (stream, pipeline) in stalled where !warned.contains("\(stream)#\(pipeline)") {
            logger.warning("an encoder publishes but its archive got no new segment for 2 x segment_length", metadata: ["stream": "\(stream)", "pipeline": "\(pipeline)"])
        }
        warned = keys
    }
}
