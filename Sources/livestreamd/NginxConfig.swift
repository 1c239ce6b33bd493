import Foundation
import LivestreamCore
import LocalMedia

/// `livestreamd nginx-config --out DIR`: nginx's three snippets rendered from livestreamd's own
/// configuration, so the socket, ports, folders, prefix, body limit, archiver and token are set
/// in one place. Writes the three files (0640: they hold the internal token) and nothing else.
///
/// - `livestreamd-rtmp.conf`, top level: the `rtmp {}` block (ingest with the key hook, failover,
///   HLS, archiver); a comment only when `media.backend` is not `local`.
/// - `livestreamd-http.conf`, inside `http {}`: the FastCGI upstream and, for `local`, the
///   loopback internal server (hooks, `rtmp_control`, `rtmp_stat`, the live folders).
/// - `livestreamd-locations.conf`, inside a `server {}`: the API location, `/hls/`, `/archive/`,
///   the console (`server.console`) and nginx's own errors in the API's JSON shape.
enum NginxConfig {
    /// What the snippets are made of.
    struct Settings: Equatable {
        var values: [String: String]
        var local: Bool
        var console: Bool
    }

    static func run(configuration: Configuration, out: String, executable: String) -> Int32 {
        let settings: Settings
        do {
            settings = try Self.settings(configuration, executable: executable)
        } catch {
            FileHandle.standardError.write(Data("livestreamd: nginx-config: \(error)\n".utf8))
            return 2
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, text) in render(settings) {
                let path = out + "/" + name
                let old = umask(0o027)
                defer { umask(old) }
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                chmod(path, 0o640)
                print(path)
            }
        } catch {
            FileHandle.standardError.write(Data("livestreamd: nginx-config: cannot write to \(out): \(error)\n".utf8))
            return 2
        }
        return 0
    }

    /// The settings, or every problem at once.
    static func settings(_ config: Configuration, executable: String) throws -> Settings {
        var problems: [String] = []
        var values: [String: String] = [:]
        let local = (config.string("media.backend") ?? "local") == "local"
        if let socket = config.string("server.socket"), socket.hasPrefix("/") {
            values["SOCKET"] = socket
        } else {
            problems.append("server.socket must be the absolute path nginx connects to (with the systemd units: /run/livestreamd/api.sock)")
        }
        values["API_PREFIX"] = config.string("server.api_prefix") ?? ""
        values["MAX_BODY"] = String(config.int("server.max_body_bytes"))
        let archive = config.string("archive.file.directory") ?? ""
        values["ARCHIVE_DIR"] = AbsolutePath.of(archive)
        if local {
            let hls = AbsolutePath.of(config.string("media.local.hls_directory") ?? "")
            values["HLS_DIR"] = hls
            values["INGEST_APP"] = config.string("media.local.ingest_app") ?? "live"
            if let control = URLComponents(string: config.string("media.local.control_url") ?? ""), control.host == "127.0.0.1", let port = control.port {
                values["INTERNAL_PORT"] = String(port)
                if URLComponents(string: config.string("media.local.stat_url") ?? "")?.port != port {
                    problems.append("media.local.stat_url must be on the port of media.local.control_url (\(port)): one internal server serves both")
                }
            } else {
                problems.append("media.local.control_url must be http://127.0.0.1:PORT/control (the snippets' loopback internal server)")
            }
            let listen = config.string("media.local.rtmp_listen") ?? ""
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (1...65535).contains(port) {
                values["RTMP_LISTEN"] = listen
                values["RTMP_PORT"] = String(port)
            } else {
                problems.append("media.local.rtmp_listen must be address:port, e.g. 0.0.0.0:1935")
            }
            do {
                values["INTERNAL_TOKEN"] = try LocalMediaPlugin.internalToken(config)
            } catch {
                problems.append("\(error)")
            }
            if let file = config.string("media.local.internal_token_file"), file.hasPrefix("/") {
                values["TOKEN_FILE"] = file
            } else {
                problems.append("media.local.internal_token_file must be the absolute path of the token file: the archiver reads the token there")
            }
            if values["INTERNAL_TOKEN"] == nil, values["TOKEN_FILE"] != nil {
                problems.append("the internal token file holds no token")
            }
            if let archiver = config.string("media.local.archiver"), !archiver.isEmpty {
                values["ARCHIVER"] = AbsolutePath.of(archiver)
            } else if let found = defaultArchiver(executable: executable) {
                values["ARCHIVER"] = found
            } else {
                problems.append("no archiver found beside \(executable); set media.local.archiver")
            }
            values["ARCHIVER_LOG"] = config.string("media.local.archiver_log").flatMap { $0.isEmpty ? nil : AbsolutePath.of($0) }
                ?? (hls as NSString).deletingLastPathComponent + "/archiver.log"
        }
        let console = config.bool("server.console")
        if console {
            let folder = config.string("server.console_directory").flatMap { $0.isEmpty ? nil : AbsolutePath.of($0) } ?? defaultConsole(executable: executable)
            if let folder, FileManager.default.fileExists(atPath: folder + "/index.html") {
                if folder.contains(where: { $0.isWhitespace || "\"';{}$#\\".contains($0) }) {
                    problems.append("server.console_directory must be a path nginx can take as it is (no spaces, quotes, ;, {, }, $ or #): \(folder)")
                } else {
                    values["CONSOLE_DIR"] = folder
                }
            } else if let folder {
                problems.append("server.console_directory holds no index.html: \(folder)")
            } else {
                problems.append("no console found beside \(executable); set server.console_directory, or server.console to false")
            }
            do {
                values["MEDIA_SOURCES"] = try mediaSources(config).joined(separator: " ")
            } catch {
                problems.append("\(error)")
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems.joined(separator: "\n")) }
        return Settings(values: values, local: local, console: console)
    }

    /// The Content-Security-Policy sources the console's pictures and players load from: this
    /// site, and the origins of the live, archive and CDN URLs the configuration hands out.
    static func mediaSources(_ config: Configuration) throws(ConfigurationError) -> [String] {
        var sources = ["'self'"]
        func add(_ source: String) {
            if !sources.contains(source) { sources.append(source) }
        }
        func origin(_ key: String) throws(ConfigurationError) {
            guard let url = config.string(key), !url.isEmpty else { return }
            let parts = URLComponents(string: url)
            // A path alone is this site's: 'self'.
            if let parts, parts.scheme == nil, parts.host == nil, url.hasPrefix("/") { return }
            guard let parts, let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = parts.host, isPlainHost(host)
            else { throw ConfigurationError("\(key) must be an http or https URL with a plain host name for the console's security policy (is '\(url)')") }
            add("\(scheme)://\(host.contains(":") ? "[\(host)]" : host)" + (parts.port.map { ":\($0)" } ?? ""))
        }
        switch config.string("media.backend") ?? PluginSeam.media.defaultBackend {
        case "local": try origin("media.local.hls_url")
        // MediaPackage's endpoints (https://<id>.mediapackage.<region>.amazonaws.com).
        case "medialive": add("https://*.amazonaws.com")
        default: break
        }
        if config.string("cdn.backend") == "cloudfront", let domain = config.string("cdn.cloudfront.live_domain") {
            guard isPlainHost(domain) else { throw ConfigurationError("cdn.cloudfront.live_domain must be a host name (is '\(domain)')") }
            add("https://\(domain)")
        }
        switch config.string("archive.backend") ?? PluginSeam.archive.defaultBackend {
        case "file": try origin("archive.file.url")
        case "s3": try origin("archive.s3.public_url")
        default: break
        }
        return sources
    }

    /// Letters, digits, dots, dashes and IPv6 colons only: what may stand in a header nginx sends.
    private static func isPlainHost(_ host: String) -> Bool {
        !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }
    }

    /// The three files, in the order nginx reads them.
    static func render(_ settings: Settings) -> [(name: String, text: String)] {
        func fill(_ template: String) -> String {
            settings.values.reduce(template) { text, entry in text.replacingOccurrences(of: "@\(entry.key)@", with: entry.value) }
        }
        let rtmp = settings.local ? fill(rtmpTemplate) : "# livestreamd: no RTMP here (media.backend is not local)."
        let http = fill(upstreamTemplate) + (settings.local ? "\n" + fill(internalServerTemplate) : "")
        let locations = fill(locationsTemplate) + (settings.console ? "\n\n" + fill(consoleTemplate) : "")
        return [("livestreamd-rtmp.conf", rtmp), ("livestreamd-http.conf", http), ("livestreamd-locations.conf", locations)].map { ($0, $1 + "\n") }
    }

    /// `share/livestreamd/console` beside an installed binary (`bin/`), or `console/` of the
    /// source tree a development build lives in.
    static func defaultConsole(executable: String) -> String? {
        installedOrSourceFile(executable: executable, installed: "share/livestreamd/console/index.html", source: "console/index.html", mustRun: false)
            .map { ($0 as NSString).deletingLastPathComponent }
    }

    /// `lib/livestreamd/archiver.sh` beside an installed binary (`bin/`), or `nginx/archiver.sh`
    /// of the source tree a development build lives in.
    static func defaultArchiver(executable: String) -> String? {
        installedOrSourceFile(executable: executable, installed: "lib/livestreamd/archiver.sh", source: "nginx/archiver.sh", mustRun: true)
    }

    /// `installed` below the binary's prefix, else `source` in a folder above the binary.
    private static func installedOrSourceFile(executable: String, installed: String, source: String, mustRun: Bool) -> String? {
        let found = { (path: String) in
            mustRun ? FileManager.default.isExecutableFile(atPath: path) : FileManager.default.isReadableFile(atPath: path)
        }
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        let prefixed = binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(installed).path
        if found(prefixed) { return prefixed }
        var folder = binary.deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent(source).path
            if found(candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    static let rtmpTemplate = """
    # livestreamd, top level (beside http {}): RTMP ingest, HLS and archiving.
    # Written by `livestreamd nginx-config` from livestreamd's configuration; edit that, not this.
    rtmp {
        # nginx-rtmp keeps its own access log, on by default at nginx's compiled-in path
        # (/var/log/nginx/access.log on Debian), and logs each publish with its stream name:
        # before the on_publish rename, that name is the stream key. http's access_log off
        # does not cover it.
        access_log off;

        server {
            listen @RTMP_LISTEN@;
            chunk_size 4096;
            notify_method post;

            # Encoders publish here with rtmp://HOST:PORT/@INGEST_APP@/<stream key>.
            # on_publish checks the key with livestreamd and renames the stream to its
            # public name, so nothing after this point sees the key. Every call to
            # livestreamd carries the internal token (this file is secret: 0640, root's).
            application @INGEST_APP@ {
                live on;
                record off;
                on_publish http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/publish?token=@INTERNAL_TOKEN@;
                on_publish_done http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/publish_done?token=@INTERNAL_TOKEN@;
                # Every publisher and player reports every 2 s (PublisherLiveness.nginxUpdateSeconds),
                # from whichever worker holds it: livestreamd drops those of stopped streams (an
                # rtmp_control drop reaches only one worker, and after a reload the old one keeps
                # its streams) and frees the slots of publishers that stopped reporting.
                on_update http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/update?token=@INTERNAL_TOKEN@;
                notify_update_timeout 2s;
                allow play 127.0.0.1;
                deny play all;
                # The archiver must start on a key frame and must not wait forever once the publisher leaves.
                wait_key on;
                wait_video on;
                idle_streams off;
                drop_idle_publisher 15s;
                # Each pipeline is relayed to the failover application, proving itself with the
                # token (as its page URL); a refused relay is retried every second.
                push rtmp://127.0.0.1:@RTMP_PORT@/failover pageUrl=@INTERNAL_TOKEN@;
                push_reconnect 1s;
                # TERM, not the default KILL: ffmpeg then closes the last segment and its list entry.
                exec_kill_signal term;
                # The archiver reads the token from a file: a command line is visible to every user.
                exec_push @ARCHIVER@ http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/archive @RTMP_PORT@ $app $name @ARCHIVER_LOG@ @TOKEN_FILE@;
            }

            # Viewers' failover: one of the two pipelines' relays publishes here under the
            # stream id. livestreamd admits the primary (taking the name back from the backup)
            # and, while the primary has no encoder, the backup renamed to the stream id; the
            # backup's relay is refused and retried every second until then. An application of
            # its own, because nginx-rtmp's HLS ignores an on_publish rename in its application.
            application failover {
                live on;
                allow publish 127.0.0.1;
                deny publish all;
                deny play all;
                on_publish http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/failover?token=@INTERNAL_TOKEN@;
                push rtmp://127.0.0.1:@RTMP_PORT@/hls pageUrl=@INTERNAL_TOKEN@;
                push_reconnect 1s;
            }

            # Live HLS under the stream id. Only the failover application's relay may publish
            # here: livestreamd checks its token and that the stream has an accepted encoder.
            application hls {
                live on;
                allow publish 127.0.0.1;
                deny publish all;
                on_publish http://127.0.0.1:@INTERNAL_PORT@/_internal/rtmp/relay?token=@INTERNAL_TOKEN@;
                deny play all;
                hls on;
                hls_path @HLS_DIR@;
                hls_nested on;
                hls_fragment 2s;
                hls_playlist_length 30s;
                hls_cleanup on;
            }
        }
    }
    """

    static let upstreamTemplate = """
    # livestreamd, inside http {}: the FastCGI upstream and the loopback-only internal server.
    # Written by `livestreamd nginx-config` from livestreamd's configuration; edit that, not this.
    upstream livestreamd {
        server unix:@SOCKET@;
        # Kept connections cost livestreamd no thread (it polls idle ones), so keep plenty.
        keepalive 64;
    }

    """

    static let internalServerTemplate = """
    # nginx-rtmp's callbacks and control; never reachable from outside this host, and
    # usable by other local users only with the internal token (this file is secret).
    server {
        listen 127.0.0.1:@INTERNAL_PORT@;
        allow 127.0.0.1;
        deny all;
        # URLs here carry the token.
        access_log off;

        location /_internal/ {
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REMOTE_ADDR $remote_addr;
            # Marks the request as internal; clients cannot set FastCGI params.
            fastcgi_param LIVESTREAMD_INTERNAL 1;
            fastcgi_keep_conn on;
            fastcgi_pass livestreamd;
        }
        location /control {
            if ($arg_token != "@INTERNAL_TOKEN@") {
                return 403;
            }
            rtmp_control all;
        }
        location /stat {
            if ($arg_token != "@INTERNAL_TOKEN@") {
                return 403;
            }
            rtmp_stat all;
        }
        # nginx-rtmp makes each stream's live HLS folder for nginx's user alone, so livestreamd
        # reads, ends (PUT of the playlist) and removes (DELETE) them here, as nginx's user.
        # The token comes in a header: nginx's error log prints request lines.
        location ~ ^/live-folders/([A-Za-z0-9_-]+)/(index\\.m3u8)?$ {
            if ($http_x_livestreamd_token != "@INTERNAL_TOKEN@") {
                return 403;
            }
            alias @HLS_DIR@/$1/$2;
            dav_methods PUT DELETE;
            dav_access user:rw group:r all:r;
            log_not_found off;
        }
    }
    """

    static let consoleTemplate = """
    # The operator's console: static files calling the API above with the bearer token the
    # operator types in. Nothing runs that this site did not serve (the policy below); pictures
    # and players load only from the live, archive and CDN origins of livestreamd's configuration
    # (blob: for pictures the console fetched from the API with the token).
    location = @API_PREFIX@/console {
        absolute_redirect off;
        return 301 @API_PREFIX@/console/;
    }

    location @API_PREFIX@/console/ {
        alias @CONSOLE_DIR@/;
        index index.html;
        types {
            text/html html;
            text/css css;
            text/javascript js;
        }
        default_type application/octet-stream;
        add_header Content-Security-Policy "default-src 'none'; script-src 'self'; style-src 'self'; img-src @MEDIA_SOURCES@ blob:; media-src @MEDIA_SOURCES@ blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy no-referrer always;
        # Revalidated on every load, so an upgrade's files are used at once.
        add_header Cache-Control no-cache always;
    }
    """

    static let locationsTemplate = """
    # livestreamd, inside your server {}: the REST API, live HLS and archives.
    # Written by `livestreamd nginx-config` from livestreamd's configuration; edit that, not this.
    location ~ ^@API_PREFIX@/(streams|events|webhooks|metrics|healthz|readyz|openapi\\.json)(/|$) {
        # server.max_body_bytes: nginx answers first, in the API's error shape.
        client_max_body_size @MAX_BODY@;
        error_page 413 = @livestreamd_too_large;
        # nginx's own answers when livestreamd cannot be reached or is too slow (livestreamd's own
        # 502/503/504 pass through untouched: fastcgi_intercept_errors stays off).
        error_page 502 = @livestreamd_unreachable;
        error_page 503 = @livestreamd_unavailable;
        error_page 504 = @livestreamd_timeout;
        fastcgi_param REQUEST_METHOD $request_method;
        fastcgi_param REQUEST_URI $request_uri;
        fastcgi_param CONTENT_TYPE $content_type;
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_param REMOTE_ADDR $remote_addr;
        fastcgi_keep_conn on;
        # Room for a long listing in memory (allocated only when used) rather than a temp file.
        fastcgi_buffers 64 16k;
        fastcgi_busy_buffers_size 64k;
        fastcgi_pass livestreamd;
    }

    location /hls/ {
        alias @HLS_DIR@/;
        types {
            application/vnd.apple.mpegurl m3u8;
            video/mp2t ts;
            image/jpeg jpg;
        }
        add_header Cache-Control no-cache;
        add_header Access-Control-Allow-Origin *;
    }

    location /archive/ {
        alias @ARCHIVE_DIR@/;
        types {
            application/vnd.apple.mpegurl m3u8;
            video/mp2t ts;
        }
        add_header Access-Control-Allow-Origin *;
    }

    location @livestreamd_too_large {
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 413 '{"message":"the request body is larger than @MAX_BODY@ bytes","code":"payload_too_large"}';
    }

    location @livestreamd_unreachable {
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 502 '{"message":"the service is not reachable; try again shortly","code":"service_unreachable"}';
    }

    location @livestreamd_unavailable {
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        add_header Retry-After 5 always;
        return 503 '{"message":"the service is unavailable; try again shortly","code":"service_unavailable"}';
    }

    location @livestreamd_timeout {
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 504 '{"message":"the service did not answer in time","code":"service_timeout"}';
    }

    # For nginx's own errors (malformed or unknown URLs) in the API's shape; see nginx.conf.in.
    location = /_livestreamd/bad_request.json {
        internal;
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 400 '{"message":"the request is malformed","code":"bad_request"}';
    }

    # nginx itself refuses TRACE (and the API has no TRACE): the API's shape, with Allow (RFC 9110).
    location = /_livestreamd/method_not_allowed.json {
        internal;
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        add_header Allow "GET, POST, DELETE, OPTIONS" always;
        return 405 '{"message":"the method is not allowed here","code":"method_not_allowed"}';
    }

    location = /_livestreamd/uri_too_long.json {
        internal;
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 414 '{"message":"the request URI is too long","code":"uri_too_long"}';
    }

    location = /_livestreamd/not_found.json {
        internal;
        default_type application/json;
        add_header Access-Control-Allow-Origin * always;
        return 404 '{"message":"no such resource","code":"not_found"}';
    }
    """
}
