import Foundation
import LivestreamCore
import Logging

/// The local pipeline's background round: lost publishers, stalled archives and old live folders.
///
/// - A publisher slot whose publisher nginx-rtmp no longer has (its `on_publish_done` was
///   lost while livestreamd was down) is freed: the first round runs soon after start-up.
///   This also completes a stop that was waiting for it (`STOPPING`).
/// - A stream whose encoder publishes but whose archive got no new segment (nor segment
///   list entry) for 2 x `segment_length` is logged as a warning, once per stall.
/// - Live HLS folders of streams that are stopped (or deleted) are removed once nothing
///   was written to them for `keep`: nginx-rtmp's own cleanup (`hls_cleanup`, on in the
///   snippets) removes them about two minutes after the last write, but only while nginx
///   runs with that setting.
final class LocalMaintenance: MaintenanceWork, @unchecked Sendable {
    let wakeup = MaintenanceWakeup()
    private let store: any StreamStore
    private let folders: LiveFolders
    private let liveness: PublisherLiveness
    private let nginxPublishers: @Sendable () -> Set<String>?
    private let keep: Duration
    private let logger: Logger
    /// (stream, pipeline) already warned about; only the maintenance thread touches it.
    private var warned: Set<String> = []
    private var rounds = 0
    private var statUnreadableLogged = false

    init(
        store: any StreamStore, folders: LiveFolders, liveness: PublisherLiveness, nginxPublishers: @escaping @Sendable () -> Set<String>?,
        keep: Duration, logger: Logger
    ) {
        self.nginxPublishers = nginxPublishers
        self.store = store
        self.folders = folders
        self.liveness = liveness
        self.keep = keep
        self.logger = logger
    }

    func runRound() -> Duration {
        do {
            let records = try store.listForRefresh()
            ServiceMetrics.streams(
                byState: Dictionary(grouping: records, by: \.state).mapValues(\.count),
                publishers: records.reduce(0) { $0 + Publishers($1.mediaState).clients.count })
            try freeSlotsOfGonePublishers(records)
            checkArchives(records)
            for folder in folders.staleFolders(of: records, olderThan: keep) {
                if let problem = folders.removeFolder(named: folder) {
                    logger.warning("\(problem)", metadata: ["folder": "\(folder)"])
                } else {
                    logger.info("removed the live folder of a stopped stream", metadata: ["folder": "\(folder)"])
                }
            }
        } catch {
            logger.warning("local pipeline maintenance failed; retrying", metadata: ["error": "\(error)"])
        }
        rounds += 1
        // The second round comes once every live publisher has had time to report after a start-up.
        return rounds == 1 ? .seconds(2 * PublisherLiveness.nginxUpdateSeconds) : .seconds(30)
    }

    /// Frees the slots of publishers that nginx-rtmp no longer has.
    func freeSlotsOfGonePublishers(_ records: [StreamRecord]) throws {
        let held = records.filter { !Publishers($0.mediaState).isEmpty }
        guard !held.isEmpty else { return }
        let listed = nginxPublishers()
        if listed == nil && !statUnreadableLogged {
            logger.warning("cannot read nginx-rtmp's stat page (media.local.stat_url): lost publishers are freed after three silent update intervals instead")
        }
        statUnreadableLogged = listed == nil
        for record in held {
            let gone = Publishers(record.mediaState).clients.filter { liveness.isGone($0.value, listedByNginx: listed) }
            guard !gone.isEmpty else { continue }
            _ = try store.update(id: record.id) { current in
                var publishers = Publishers(current.mediaState)
                publishers.clients = publishers.clients.filter { gone[$0.key] != $0.value }
                publishers.store(into: &current)
            }
            logger.notice("freed the publisher slots of encoders nginx-rtmp no longer has", metadata: ["stream": "\(record.id)", "pipelines": "\(gone.keys.sorted())"])
            for pipeline in gone.keys.sorted() {
                store.journal(.publisherDisconnected, streamId: record.id, data: ["pipeline": .int(Int64(pipeline)), "reason": "gone from nginx-rtmp"], logger: logger)
            }
        }
    }

    /// (stream id, pipeline) of publishing streams whose archive has stalled, as of `now`.
    func stalledArchives(_ records: [StreamRecord], now: Date = Date()) -> [(String, Int)] {
        var stalled: [(String, Int)] = []
        for record in records where record.started {
            let limit = TimeInterval(2 * record.segmentLength)
            var listed: (folder: String, entries: [String])?  // one listing per session folder
            for (pipeline, client) in Publishers(record.mediaState).clients {
                guard let session = SessionArchive(of: record, pipeline: pipeline) else { continue }
                // Give a new publisher (and its archiver) time for its first segment.
                guard let since = liveness.firstSeen(client), now.timeIntervalSince(since) > limit else { continue }
                if listed?.folder != session.folder { listed = (session.folder, FileTimes.entries(of: session.folder)) }
                let written = listed!.entries.filter { $0.hasPrefix(session.folder + "/" + session.pipelinePrefix) }
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
