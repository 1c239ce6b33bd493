import LivestreamAPI
import LivestreamCore
import Logging
import Testing

struct StreamAPITests {
    let media = RecordingMediaPipeline()
    let archive = MemoryArchiveStore()

    func api(prefix: String = "", tokens: [String] = []) -> StreamAPI {
        let backends = Backends(store: MemoryStreamStore(), cdn: SameEndpoint(), media: media, archive: archive, splitter: NoPlaylists())
        let controller = StreamController(backends: backends, logger: Logger(label: "test"), now: { 1_732_500_000 })
        let hook = InternalEndpoint(path: "rtmp/publish") { request in
            InternalResponse(status: 302, headers: [("Location", request.fields["name"] ?? "")])
        }
        return StreamAPI(controller: controller, configuration: APIConfiguration(prefix: prefix, corsOrigin: "https://app.test", apiTokens: tokens),
                         internalEndpoints: [hook], logger: Logger(label: "test"))
    }

    func send(_ api: StreamAPI, _ method: String, _ target: String, _ body: String = "", headers: [String: String] = [:], viaInternal: Bool = false) -> (status: Int, json: JSONValue?, response: APIResponse) {
        let response = api.handle(APIRequest(method: method, target: target, headers: headers, body: Array(body.utf8), isInternal: viaInternal))
        return (response.status, try? JSONValue.parse(response.body), response)
    }

    func code(_ result: (status: Int, json: JSONValue?, response: APIResponse)) -> String? {
        result.json?.objectValue?["code"]?.stringValue
    }

    @Test func aThumbnailIsThePicturesBytesOrNoneForAStoppedStream() throws {
        let api = api()
        let id = try #require(send(api, "POST", "/streams", #"{"name":"a"}"#).json?.objectValue?["id"]?.stringValue)
        media.show(Thumbnail(bytes: [0xFF, 0xD8, 0xFF, 0xD9], contentType: "image/jpeg"))
        let stopped = send(api, "GET", "/streams/\(id)/thumbnail")
        #expect(stopped.status == 404 && code(stopped) == "no_thumbnail")
        #expect(!media.calls.contains { $0.operation.hasPrefix("thumbnail") }, "a stopped stream costs the backend no call")

        _ = send(api, "POST", "/streams/\(id)/start")
        let picture = send(api, "GET", "/streams/\(id)/thumbnail?pipeline=2")
        #expect(picture.status == 200 && picture.response.body == [0xFF, 0xD8, 0xFF, 0xD9])
        #expect(picture.response.headers.contains { $0 == ("Content-Type", "image/jpeg") })
        #expect(picture.response.headers.contains { $0 == ("Cache-Control", "no-store") })
        #expect(media.calls.last == RecordingMediaPipeline.Call(operation: "thumbnail2", streamId: id))
        media.show(nil)
        #expect(code(send(api, "GET", "/streams/\(id)/thumbnail")) == "no_thumbnail")
        media.fail("thumbnail1")
        #expect(send(api, "GET", "/streams/\(id)/thumbnail?pipeline=1").status == 502)

        for bad in ["0", "3", "x", ""] {
            #expect(code(send(api, "GET", "/streams/\(id)/thumbnail?pipeline=\(bad)")) == "invalid_pipeline", "pipeline=\(bad)")
        }
        #expect(send(api, "POST", "/streams/\(id)/thumbnail").status == 405)
        #expect(code(send(api, "GET", "/streams/nope/thumbnail")) == "stream_not_found")
        #expect(send(self.api(tokens: ["t"]), "GET", "/streams/\(id)/thumbnail").status == 401, "the token applies as on every stream route")
    }

    @Test func routesEveryEndpoint() throws {
        let api = api()
        let created = send(api, "POST", "/streams", #"{"name":"a"}"#)
        #expect(created.status == 200)
        let id = try #require(created.json?.objectValue?["id"]?.stringValue)
        #expect(send(api, "GET", "/streams").json?.arrayValue?.count == 1)
        #expect(send(api, "GET", "/streams/\(id)").json?.objectValue?["name"] == "a")
        #expect(send(api, "POST", "/streams/\(id)", #"{"name":"b"}"#).json?.objectValue?["name"] == "b")
        let started = send(api, "POST", "/streams/\(id)/start")
        #expect(started.status == 200 && started.json?.objectValue?["started"] == true)
        #expect(send(api, "POST", "/streams/\(id)/live").json?.objectValue?["cloudfront_associated"] == true)
        #expect(send(api, "DELETE", "/streams/\(id)/live").json?.objectValue?["cloudfront_associated"] == false)
        let session = try #require(started.json?.objectValue?["current_session_id"]?.stringValue)
        let split = send(api, "POST", "/streams/\(id)/split", #"{"session_id":"\#(session)","timestamp_list":[{"start":0,"end":1}]}"#)
        #expect(split.status == 409 && code(split) == "no_segments")
        let listed = send(api, "GET", "/streams/\(id)/sessions").json?.objectValue?["sessions"]?.arrayValue
        #expect(listed?.count == 1 && listed?.first?.objectValue?["live"] == true)
        #expect(send(api, "GET", "/streams/\(id)/sessions/\(session)").json?.objectValue?["session_id"] == .string(session))
        #expect(code(send(api, "DELETE", "/streams/\(id)/sessions/\(session)")) == "session_live")
        #expect(code(send(api, "GET", "/streams/\(id)/sessions/\(Identifier.make())")) == "session_not_found")
        #expect(code(send(api, "GET", "/streams/\(id)/sessions/x%41")) == "invalid_session_id")
        #expect(send(api, "POST", "/streams/\(id)/sessions").status == 405)
        #expect(send(api, "GET", "/streams/\(id)/sessions/\(session)/x").status == 404)
        #expect(send(api, "POST", "/streams/\(id)/stop").json?.objectValue?["started"] == false)
        let deleted = send(api, "DELETE", "/streams/\(id)/sessions/\(session)")
        #expect(deleted.status == 200 && deleted.json == ["session_id": .string(session), "files_removed": 0])
        #expect(send(api, "GET", "/streams/\(id)/sessions").json == ["sessions": []])
        #expect(send(api, "DELETE", "/streams/\(id)").json?.objectValue?["id"] == .string(id))
        #expect(send(api, "GET", "/streams/\(id)").status == 404)
        #expect(send(api, "GET", "/healthz").json == ["status": "ok"])
        #expect(send(api, "GET", "/openapi.json").json?.objectValue?["openapi"] == "3.1.0")
        #expect(code(send(api, "GET", "/webhooks")) == "webhooks_off")
    }

    @Test func aReadAfterEveryChangeShowsTheChange() throws {
        let api = api()
        let id = try #require(send(api, "POST", "/streams", #"{"name":"a"}"#).json?.objectValue?["id"]?.stringValue)
        for name in ["b", "c", "b"] {
            #expect(send(api, "GET", "/streams/\(id)").json != nil)  // rendered and kept
            _ = send(api, "POST", "/streams/\(id)", #"{"name":"\#(name)"}"#)
            #expect(send(api, "GET", "/streams/\(id)").json?.objectValue?["name"]?.stringValue == name)
        }
        _ = send(api, "POST", "/streams/\(id)/start")
        #expect(send(api, "GET", "/streams/\(id)").json?.objectValue?["started"] == true)
    }

    @Test func everyResponseCarriesCORSAndPreflightIsAnswered() {
        let api = api()
        #expect(send(api, "GET", "/nowhere").response.header("Access-Control-Allow-Origin") == "https://app.test")
        let preflight = send(api, "OPTIONS", "/streams/0123456789abcdef0123456789abcdef/live")
        #expect(preflight.status == 204)
        #expect(preflight.response.header("Access-Control-Allow-Methods") == "POST, DELETE, OPTIONS")
        #expect(preflight.response.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
    }

    @Test func errorsHaveTheContractShape() {
        let api = api()
        let cases: [(String, String, String, Int, String)] = [
            ("GET", "/streams/0123456789abcdef0123456789abcdef", "", 404, "stream_not_found"),
            ("GET", "/streams/ABC", "", 404, "stream_not_found"),
            ("GET", "/streams/.hidden", "", 400, "invalid_id"),
            ("GET", "/streams/livestreamd_cleanups", "", 400, "invalid_id"),
            ("GET", "/streams/%2e%2e", "", 400, "invalid_path"),
            ("GET", "/streams/..", "", 400, "invalid_path"),
            ("GET", "/streams/a%0Ab", "", 400, "invalid_path"),
            ("GET", "/streams/a%2Fb", "", 400, "invalid_path"),
            ("GET", "/streams/%zz", "", 400, "invalid_path"),
            ("GET", "/streams/0123456789abcdef0123456789abcdef/rewind", "", 404, "not_found"),
            ("PUT", "/streams", "", 405, "method_not_allowed"),
            ("GET", "/streams/0123456789abcdef0123456789abcdef/start", "", 405, "method_not_allowed"),
            ("POST", "/streams", "", 400, "invalid_body"),
            ("POST", "/streams", "{", 400, "invalid_json"),
            ("POST", "/streams", "[]", 400, "invalid_body"),
            ("POST", "/streams", #"{"name":1}"#, 400, "invalid_request"),
            ("GET", "/streams?limit=0", "", 400, "invalid_request"),
            ("GET", "/streams?limit=x", "", 400, "invalid_request"),
            ("GET", "/_internal/rtmp/publish", "", 404, "not_found"),
        ]
        for (method, target, body, status, expectedCode) in cases {
            let result = send(api, method, target, body)
            #expect(result.status == status, "\(method) \(target)")
            #expect(code(result) == expectedCode, "\(method) \(target)")
            #expect(result.json?.objectValue?["message"]?.stringValue?.isEmpty == false)
            #expect(result.response.header("Content-Type") == "application/json")
        }
        let tooLarge = api.payloadTooLarge(limit: 10)
        #expect(tooLarge.status == 413 && (try? JSONValue.parse(tooLarge.body))?.objectValue?["code"] == "payload_too_large")
    }

    @Test func tokensGuardStreamsOnly() throws {
        let api = api(tokens: ["t0ken", "other"])
        let missing = send(api, "GET", "/streams")
        #expect(missing.status == 401 && code(missing) == "unauthorized")
        #expect(send(api, "GET", "/streams", headers: ["authorization": "Bearer nope"]).status == 401)
        #expect(send(api, "GET", "/streams", headers: ["authorization": "Basic t0ken"]).status == 401)
        #expect(send(api, "GET", "/streams", headers: ["authorization": "Bearer t0ken"]).status == 200)
        #expect(send(api, "GET", "/streams", headers: ["authorization": "Bearer other"]).status == 200)
        #expect(send(api, "GET", "/healthz").status == 200)
        #expect(send(api, "OPTIONS", "/streams").status == 204)
        let message = missing.json?.objectValue?["message"]?.stringValue ?? ""
        #expect(!message.contains("t0ken"))
    }

    @Test func honoursThePrefix() {
        let api = api(prefix: "/api/")
        #expect(send(api, "GET", "/api/streams").status == 200)
        #expect(send(api, "GET", "/streams").status == 404)
        #expect(send(api, "GET", "/apistreams").status == 404)
    }

    @Test func pagesCarryTheNextToken() throws {
        let api = api()
        for name in ["a", "b", "c"] { _ = send(api, "POST", "/streams", #"{"name":"\#(name)"}"#) }
        let first = send(api, "GET", "/streams?limit=2")
        #expect(first.json?.arrayValue?.count == 2)
        let token = try #require(first.response.header("X-Next-Token"))
        let second = send(api, "GET", "/streams?limit=2&next_token=\(token)")
        #expect(second.json?.arrayValue?.count == 1 && second.response.header("X-Next-Token") == nil)
    }

    @Test func internalEndpointsAnswerOnlyInternalRequests() {
        let api = api()
        let hook = send(api, "POST", "/_internal/rtmp/publish", "app=live&name=abc%20d", viaInternal: true)
        #expect(hook.status == 302 && hook.response.header("Location") == "abc d")
        #expect(hook.response.header("Access-Control-Allow-Origin") == nil)
        #expect(send(api, "GET", "/streams", viaInternal: true).status == 404)
        #expect(send(api, "POST", "/_internal/rtmp/publish", "name=x").status == 404)
    }
}

private struct SameEndpoint: LiveDistribution {
    func cdnViewerEndpoint(for viewerEndpoint: String) -> String { viewerEndpoint }
    func associate(_ record: StreamRecord) throws {}
    func dissociate(_ record: StreamRecord) throws {}
}

private struct NoPlaylists: ArchiveSplitter {
    func clips(segments: [ArchiveSegment], nominalSegmentLength: Int, ranges: [TimeRange]) -> [ClipPlan] {
        ranges.map { _ in ClipPlan(playlist: "", achieved: nil, pipeline: nil) }
    }

    func coverage(segments: [ArchiveSegment], nominalSegmentLength: Int) -> SessionCoverage {
        SessionCoverage(duration: 0, covered: [:], gaps: [])
    }

    func playlist(_ entries: [ClipEntry], nominalSegmentLength: Int) -> String { "" }
}
