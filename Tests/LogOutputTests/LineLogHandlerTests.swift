import Foundation
import LogOutput
import Logging
import Testing

/// One test, as it redirects the process's standard error to a file.
struct LineLogHandlerTests {
    @Test func deferredLinesWaitForAFlushOrAnUrgentLineAndNeverForgeLines() throws {
        let path = NSTemporaryDirectory() + "log-\(UUID().uuidString).log"
        let saved = dup(2)
        defer {
            dup2(saved, 2)
            close(saved)
        }
        try LogLines.redirect(to: path)
        LogLines.level = .info
        let logger = Logger(label: "unit", factory: { LineLogHandler(label: $0) })
        let read: @Sendable () -> String = { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            LogLines.deferWrites()
            logger.info("held back", metadata: ["b": "2", "a": "1"])
            #expect(!read().contains("held back"), "an info line of a deferring thread waits")
            #expect(LogLines.hasPending)
            logger.warning("at once\nforged line")
            done.signal()
        }
        done.wait()

        let lines = read().split(separator: "\n")
        let held = try #require(lines.firstIndex { $0.contains("held back") })
        let urgent = try #require(lines.firstIndex { $0.contains("at once") })
        #expect(held < urgent, "lines keep their order")
        #expect(lines[held].contains("info unit: a=1 b=2 held back"))
        #expect(lines[urgent].hasSuffix("at once forged line"), "a line break in a message does not start a new line")
        #expect(!lines.contains { $0.hasPrefix("forged") })

        LogLines.level = .warning
        logger.info("filtered")
        #expect(!read().contains("filtered"))
        LogLines.level = .info

        // journald stamps lines itself: no time of our own.
        LogLines.timestamps = false
        logger.warning("unstamped", metadata: ["k": "v"])
        #expect(read().split(separator: "\n").last == "warning unit: k=v unstamped")
        LogLines.timestamps = true

        LogLines.format = .json
        defer { LogLines.format = .text }
        logger.warning("as \"json\"\nline", metadata: ["status": "404", "path": "/x\u{1}"])
        let last = try #require(read().split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["logger"] == "unit" && object["message"] == "as \"json\"\nline")
        #expect(object["status"] == "404" && object["path"] == "/x\u{1}" && object["time"]?.hasSuffix("Z") == true)
    }
}
