import Foundation

/// The process's own figures in Prometheus text (the names of the official clients' process
/// collector), read from `/proc/self` at each scrape.
enum ProcessFigures {
    static func prometheusText() -> [UInt8] {
        var lines: [String] = []
        func add(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)", "\(name) \(value)"]
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        // Fields after the command's closing parenthesis: utime and stime are 14 and 15, starttime 22 (1-based, of the whole line).
        let stat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8))?.split(separator: ")", maxSplits: 1).last?.split(separator: " ") ?? []
        if stat.count > 19, let user = Double(stat[11]), let system = Double(stat[12]), let started = Double(stat[19]) {
            add("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", (user + system) / ticks)
            let boot = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("btime ") }
                .flatMap { Double($0.dropFirst("btime ".count)) }
            add("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", boot.map { $0 + started / ticks })
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func kilobytes(_ field: String) -> Double? {
            status.split(separator: "\n").first { $0.hasPrefix(field + ":") }?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
        }
        add("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", kilobytes("VmRSS").map { $0 * 1024 })
        add("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", kilobytes("VmSize").map { $0 * 1024 })
        add("process_threads", "gauge", "Threads of the process.", status.split(separator: "\n").first { $0.hasPrefix("Threads:") }.flatMap { Double($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) })
        add("process_open_fds", "gauge", "Number of open file descriptors.", (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) })
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }
}
