import Foundation
import LivestreamCore
import LocalMedia
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `livestreamd doctor`: checks a deployment as nginx's workers meet it and says how to fix what is wrong.
///
/// Permissions are judged for the configured nginx user (`--nginx-user`, default `www-data`) from
/// the files' modes, owners and the user's groups, the way the kernel will judge them: the
/// socket, the HLS and archive folders, the archiver, its log and the token file. `nginx -T`
/// (`--nginx-conf` for another configuration) must hold the three snippets, one worker where RTMP
/// is used, nginx-rtmp's access log off (it logs stream keys) and an error log above `info` (so
/// does it), and the RTMP address livestreamd expects. Then each backend's readiness check runs
/// (the AWS ones call AWS with the configured credentials). Exit 1 when anything is wrong.
enum Doctor {
    struct Finding {
        let check: String
        /// nil when the check passed.
        let problem: String?
        let fix: String?

        static func ok(_ check: String) -> Finding { Finding(check: check, problem: nil, fix: nil) }
    }

    static func run(configuration: Configuration, registry: PluginRegistry, nginxUser: String, nginxConf: String?) -> Int32 {
        var findings: [Finding] = []
        guard let user = NginxUser(name: nginxUser) else {
            print("FAIL  nginx user: there is no user \(nginxUser)\n      fix: pass --nginx-user with the user nginx's workers run as (`user` in nginx.conf)")
            return 1
        }
        findings += files(configuration, user: user)
        findings += nginx(configuration, conf: nginxConf)
        findings += backends(configuration, registry: registry)
        for finding in findings {
            if let problem = finding.problem {
                print("FAIL  \(finding.check): \(problem)")
                if let fix = finding.fix { print("      fix: \(fix)") }
            } else {
                print("ok    \(finding.check)")
            }
        }
        let failed = findings.filter { $0.problem != nil }.count
        print(failed == 0 ? "all \(findings.count) checks passed" : "\(failed) of \(findings.count) checks failed")
        return failed == 0 ? 0 : 1
    }

    static func isLocal(_ configuration: Configuration) -> Bool { (configuration.string("media.backend") ?? "local") == "local" }

    // MARK: - files, as nginx's user meets them

    static func files(_ configuration: Configuration, user: NginxUser) -> [Finding] {
        var findings: [Finding] = []
        let name = user.name
        if let socket = configuration.string("server.socket"), !socket.isEmpty {
            let check = "socket \(socket) open to \(name)"
            if !FileManager.default.fileExists(atPath: socket) {
                findings.append(Finding(check: check, problem: "it does not exist (is livestreamd running?)", fix: "systemctl start livestreamd.socket"))
            } else if let denied = user.denied(socket, need: .write) {
                findings.append(Finding(check: check, problem: denied, fix: "the socket unit's SocketGroup= must be a group of \(name) and SocketMode=0660 (or server.socket_mode)"))
            } else {
                findings.append(.ok(check))
            }
        }
        guard isLocal(configuration) else { return findings }
        let folderFix = "add \(name) to the group livestreamd (systemd-sysusers does) and make the folder group-writable (StateDirectoryMode=0775, UMask=0002)"
        for (what, key) in [("HLS folder", "media.local.hls_directory"), ("archive folder", "archive.file.directory")] {
            let path = AbsolutePath.of(configuration.string(key) ?? "")
            let check = "\(what) \(path) writable by \(name)"
            if let denied = user.denied(path, need: .writeFolder) {
                findings.append(Finding(check: check, problem: denied, fix: folderFix))
            } else {
                findings.append(.ok(check))
            }
        }
        let settings = try? NginxConfig.settings(configuration, executable: Upgrade.currentExecutable())
        if let archiver = settings?.values["ARCHIVER"] {
            let check = "archiver \(archiver) runnable by \(name)"
            findings.append(user.denied(archiver, need: .execute).map { Finding(check: check, problem: $0, fix: "chmod 0755 \(archiver)") } ?? .ok(check))
        }
        if let log = settings?.values["ARCHIVER_LOG"] {
            let check = "archiver log \(log) writable by \(name)"
            let exists = FileManager.default.fileExists(atPath: log)
            let denied = exists ? user.denied(log, need: .write) : user.denied((log as NSString).deletingLastPathComponent, need: .writeFolder)
            findings.append(denied.map { Finding(check: check, problem: $0, fix: "set media.local.archiver_log in a folder \(name) can write, or make that file \(name)'s") } ?? .ok(check))
        }
        if let file = configuration.string("media.local.internal_token_file"), !file.isEmpty {
            let check = "token file \(file) readable by \(name)"
            findings.append(user.denied(file, need: .read).map { Finding(check: check, problem: $0, fix: "chgrp livestreamd \(file); chmod 0640 \(file)") } ?? .ok(check))
        }
        return findings
    }

    // MARK: - nginx -T

    static func nginx(_ configuration: Configuration, conf: String?) -> [Finding] {
        var arguments = ["-T"]
        if let conf { arguments += ["-c", conf] }  // nginx's own prefix: Debian's modules-enabled files load modules relative to it
        guard let dump = runNginx(arguments) else {
            return [Finding(check: "nginx -T", problem: "nginx -T failed (is nginx installed, and its configuration valid?)", fix: "run nginx -t and fix what it says")]
        }
        return inspect(dump, configuration)
    }

    /// The checks of an `nginx -T` dump (kept apart from running nginx, for tests).
    static func inspect(_ dump: String, _ configuration: Configuration) -> [Finding] {
        var findings: [Finding] = []
        let text = dump.split(separator: "\n").map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" }
            .joined(separator: "\n")
        let snippetFix = "livestreamd nginx-config --out DIR, then include its three files (README: Behind your own nginx)"
        var parts = [("http snippet (upstream livestreamd)", "upstream livestreamd"), ("locations snippet (the API location)", "location @livestreamd_too_large")]
        if isLocal(configuration) { parts.append(("rtmp snippet (ingest application)", "application \(configuration.string("media.local.ingest_app") ?? "live")")) }
        for (check, needle) in parts {
            findings.append(text.contains(needle) ? .ok("nginx has the \(check)") : Finding(check: "nginx has the \(check)", problem: "not in nginx -T", fix: snippetFix))
        }
        guard isLocal(configuration) else { return findings }
        let workers = firstValue(of: "worker_processes", in: text) ?? "1"
        findings.append(workers == "1" ? .ok("worker_processes 1") : Finding(
            check: "worker_processes 1", problem: "worker_processes is \(workers): nginx-rtmp keeps streams, archivers and rtmp_control per worker",
            fix: "worker_processes 1; in nginx.conf (the whole server)"))
        let verbose = text.split(separator: "\n").filter { $0.contains("error_log") && ($0.contains(" info") || $0.contains(" debug")) }
        findings.append(verbose.isEmpty ? .ok("nginx's error log above info") : Finding(
            check: "nginx's error log above info", problem: "an error_log at info or debug: nginx-rtmp writes stream keys there", fix: "error_log ... notice;"))
        guard let rtmp = block("rtmp", in: text) else { return findings }  // the missing snippet is reported above
        findings.append(rtmp.contains("access_log off") ? .ok("nginx-rtmp's access log off") : Finding(
            check: "nginx-rtmp's access log off", problem: "the rtmp {} block logs every publish with its stream name: the stream key",
            fix: "access_log off; inside rtmp {} (the rtmp snippet has it)"))
        let expected = configuration.string("media.local.rtmp_listen") ?? ""
        let listen = firstValue(of: "listen", in: rtmp) ?? "-"
        findings.append(listen == expected ? .ok("RTMP listens on \(expected)") : Finding(
            check: "RTMP listens on \(expected)", problem: "nginx-rtmp listens on \(listen)", fix: "run livestreamd nginx-config again and reload nginx"))
        return findings
    }

    static func firstValue(of directive: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" })
            if words.first.map(String.init) == directive, words.count > 1 { return String(words[1]) }
        }
        return nil
    }

    /// The text of the first `name { ... }` block.
    static func block(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: "\(name) {") ?? text.range(of: "\(name){") else { return nil }
        var depth = 1
        var index = start.upperBound
        while index < text.endIndex, depth > 0 {
            if text[index] == "{" { depth += 1 } else if text[index] == "}" { depth -= 1 }
            index = text.index(after: index)
        }
        return String(text[start.upperBound..<index])
    }

    static func runNginx(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nginx")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    // MARK: - backends

    static func backends(_ configuration: Configuration, registry: PluginRegistry) -> [Finding] {
        let backends: Backends
        do {
            backends = try registry.build(configuration: configuration, logger: Logger(label: "doctor"), checkOnly: true)
        } catch {
            return [Finding(check: "configuration", problem: "\(error)", fix: "livestreamd check-config lists every problem")]
        }
        let controller = StreamController(backends: backends, logger: Logger(label: "doctor"))
        return [.ok("configuration")] + controller.readiness().map { check in
            check.problem.map { Finding(check: "\(check.backend) backend ready", problem: $0, fix: nil) } ?? .ok("\(check.backend) backend ready")
        }
    }
}

/// nginx's worker user as the kernel judges its access: uid, groups, and the mode bits of a path and its folders.
struct NginxUser {
    enum Need { case read, write, execute, writeFolder }

    let name: String
    let uid: uid_t
    let groups: Set<gid_t>

    init?(name: String) {
        guard let entry = getpwnam(name) else { return nil }
        self.name = name
        uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: 64)
        _ = getgrouplist(name, gid, &list, &count)
        groups = Set(list.prefix(Int(max(0, count)))).union([gid])
    }

    /// nil when the user may do `need` on `path`, else why not.
    func denied(_ path: String, need: Need) -> String? {
        var folder = (path as NSString).deletingLastPathComponent
        while !folder.isEmpty {
            if let reason = lacks(folder, bit: 1, what: "enter the folder") { return reason }
            if folder == "/" { break }
            folder = (folder as NSString).deletingLastPathComponent
        }
        switch need {
        case .read: return lacks(path, bit: 4, what: "read")
        case .write: return lacks(path, bit: 2, what: "write")
        case .execute: return lacks(path, bit: 4, what: "read") ?? lacks(path, bit: 1, what: "run")
        case .writeFolder: return lacks(path, bit: 2, what: "write in") ?? lacks(path, bit: 1, what: "enter")
        }
    }

    private func lacks(_ path: String, bit: mode_t, what: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "\(path) does not exist" }
        if uid == 0 { return bit == 1 && (info.st_mode & 0o111) == 0 && (info.st_mode & S_IFMT) != S_IFDIR ? "no one may \(what) \(path)" : nil }
        let shift: mode_t = info.st_uid == uid ? 6 : groups.contains(info.st_gid) ? 3 : 0
        guard (info.st_mode >> shift) & bit == 0 else { return nil }
        let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(info.st_uid)
        let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? String(info.st_gid)
        return "\(name) may not \(what) \(path) (\(owner):\(group) \(String(info.st_mode & 0o777, radix: 8)))"
    }
}
