// Test helper for FileStorageTests: increments a counter in one stream record many
// times through compare-and-set, from several threads, so that two processes running
// it at once show whether any update is lost.
//   StoreHammer DIRECTORY STREAM_ID INCREMENTS THREADS
import Dispatch
import FileStorage
import Foundation
import LivestreamCore
import Logging

let arguments = CommandLine.arguments
guard arguments.count == 5, let increments = Int(arguments[3]), let threads = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: StoreHammer DIRECTORY STREAM_ID INCREMENTS THREADS\n".utf8))
    exit(2)
}
let store = try FileStreamStore(directory: arguments[1], logger: Logger(label: "hammer"))
let id = arguments[2]

/// One increment; retries until its compare-and-set lands. Returns the number of conflicts seen.
@Sendable func increment() throws -> Int {
    var conflicts = 0
    while true {
        guard var record = try store.get(id: id) else { throw ServiceError.streamNotFound(id) }
        guard case .int(let count)? = record.extra["count"] else { throw ServiceError.internal("no counter") }
        record.extra["count"] = .int(count + 1)
        do {
            _ = try store.replace(record)
            return conflicts
        } catch let error as ServiceError where error.code == "version_conflict" {
            conflicts += 1
        }
    }
}

DispatchQueue.concurrentPerform(iterations: threads) { _ in
    for _ in 0..<(increments / threads) {
        do {
            _ = try increment()
        } catch {
            FileHandle.standardError.write(Data("StoreHammer: \(error)\n".utf8))
            exit(1)
        }
    }
}
print("done")
