import LivestreamCore
import Logging

/// The REST contract over `StreamController`: routing, JSON in and out, CORS and tokens.
///
/// Transport-free: the FastCGI server (or a test) turns its request into an
/// `APIRequest` and sends back the `APIResponse`.
public struct StreamAPI: Sendable {
    public let controller: StreamController
    public let configuration: APIConfiguration
    private let internalEndpoints: [String: InternalEndpoint]
    private let logger: Logger
    private let metrics: (@Sendable () -> [UInt8])?
    private let webhooks: (@Sendable () throws -> JSONValue)?
    private let renderedLists = RenderedLists()
    private let renderedRecords = RenderedRecords()

    /// - Parameters:
    ///   - controller: the use cases.
    ///   - configuration: prefix, CORS origin, tokens.
    ///   - internalEndpoints: plugin callbacks served on the internal listener.
    ///   - logger: for unexpected errors.
    ///   - metrics: the Prometheus text of `GET /metrics`; nil: metrics are off (404).
    ///   - webhooks: the delivery state `GET /webhooks` shows; nil: no receiver is configured (404).
    public init(
        controller: StreamController, configuration: APIConfiguration, internalEndpoints: [InternalEndpoint] = [], logger: Logger,
        metrics: (@Sendable () -> [UInt8])? = nil, webhooks: (@Sendable () throws -> JSONValue)? = nil
    ) {
        self.metrics = metrics
        self.webhooks = webhooks
        self.controller = controller
        self.configuration = configuration
        self.internalEndpoints = Dictionary(internalEndpoints.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
    }

    /// Answers one request; never throws.
    public func handle(_ request: APIRequest) -> APIResponse {
        var response: APIResponse
        do {
            response = try route(request)
        } catch let error as ServiceError {
            response = .error(error)
        } catch {
            // Not a ServiceError: a bug or an environment failure. Details go to the log only.
            logger.error("unexpected error", metadata: ["method": "\(request.method)", "path": "\(request.path)", "error": "\(error)"])
            response = .error(.internal("internal error; see the service log"))
        }
        if !request.isInternal {
            response.headers.append(("Access-Control-Allow-Origin", configuration.corsOrigin))
            response.headers.append(("Access-Control-Expose-Headers", "X-Next-Token, X-Request-Id"))
        }
        return response
    }

    /// The 413 answer for a body over the limit.
    public func payloadTooLarge(limit: Int) -> APIResponse {
        var response = APIResponse.error(ServiceError(.payloadTooLarge, code: "payload_too_large", "the request body is larger than \(limit) bytes"))
        response.headers.append(("Access-Control-Allow-Origin", configuration.corsOrigin))
        return response
    }

    private func route(_ request: APIRequest) throws -> APIResponse {
        if request.isInternal { return try routeInternal(request) }
        let segments = try RequestPath.segments(of: request.path, below: configuration.prefix)
        let route = try APIRoute(segments: segments)
        var response: APIResponse
        do {
            response = try answer(route, request)
        } catch let error as ServiceError {
            response = .error(error)
        }
        response.route = route.template
        return response
    }

    private func answer(_ route: APIRoute, _ request: APIRequest) throws -> APIResponse {
        if request.method == "OPTIONS" { return preflight(route) }
        guard route.methods.contains(request.method) else {
            let allowed = (route.methods + ["OPTIONS"]).joined(separator: ", ")
            var response = APIResponse.error(ServiceError(.methodNotAllowed, code: "method_not_allowed", "\(request.method) is not allowed here; use \(route.methods.joined(separator: ", "))"))
            response.headers.append(("Allow", allowed))  // RFC 9110: a 405 names what the resource allows
            return response
        }
        if route.needsToken { try authorize(request) }
        return try dispatch(route, request)
    }

    private func dispatch(_ route: APIRoute, _ request: APIRequest) throws -> APIResponse {
        switch (route, request.method) {
        case (.health, _):
            return .json(["status": "ok"])
        case (.ready, _):
            // Reasons name backends and settings, never secrets; the answer says which part is not ready.
            let checks = controller.readiness()
            let ready = checks.allSatisfy { $0.problem == nil }
            let body: JSONValue = [
                "status": ready ? "ready" : "not_ready",
                "checks": .object(Dictionary(uniqueKeysWithValues: checks.map { ($0.backend, JSONValue.string($0.problem ?? "ok")) })),
            ]
            return .json(body, status: ready ? 200 : 503)
        case (.openAPI, _):
            return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: OpenAPIDocument.bytes)
        case (.streams, "GET"):
            let query = try ListQuery(query: request.query)
            let page = try controller.list(limit: query.limit, after: query.nextToken)
            let body = renderedLists.body(for: page, key: "\(query.limit ?? 0)|\(query.nextToken ?? "")") {
                StreamRecord.apiJSON(page.records)
            }
            var response = APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
            if let token = page.nextToken { response.headers.append(("X-Next-Token", token)) }
            return response
        case (.streams, _):
            return .record(try withStatus(controller.create(CreateStreamInput(json: try body(request)))))
        case (.stream(let id), "GET"):
            let record = try controller.get(id: id)
            return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: renderedRecords.body(for: record))
        case (.stream(let id), "POST"):
            return .record(try withStatus(controller.update(id: id, UpdateStreamInput(json: try body(request, optional: true)))))
        case (.stream(let id), _):
            return .record(try withStatus(controller.delete(id: id)))
        case (.start(let id), _):
            return .record(try withStatus(controller.start(id: id, StartStreamInput(json: try body(request, optional: true)))))
        case (.stop(let id), _):
            return .record(try withStatus(controller.stop(id: id)))
        case (.live(let id), "POST"):
            return .record(try withStatus(controller.associateLive(id: id)))
        case (.live(let id), _):
            return .record(try withStatus(controller.dissociateLive(id: id)))
        case (.split(let id), _):
            let clips = try controller.split(id: id, SplitInput(json: try body(request)))
            return .json(["indexes": .array(clips.map { .string($0.index) }), "clips": .array(clips.map(\.jsonValue))])
        case (.sessions(let id), _):
            return .json(["sessions": .array(try controller.sessions(id: id).map(\.jsonValue))])
        case (.session(let id, let session), "GET"):
            return .json(try controller.session(id: id, sessionId: session).jsonValue)
        case (.session(let id, let session), _):
            let removed = try controller.deleteSession(id: id, sessionId: session)
            return .json(["session_id": .string(session), "files_removed": .int(Int64(removed))])
        case (.thumbnail(let id), _):
            let query = try ThumbnailQuery(query: request.query)
            switch try controller.thumbnail(id: id, pipeline: query.pipeline) {
            case .image(let picture):
                // A picture of now: never from a cache.
                return APIResponse(status: 200, headers: [("Content-Type", picture.contentType), ("Cache-Control", "no-store")], body: picture.bytes)
            case .published(let url):
                return APIResponse(status: 302, headers: [("Location", url), ("Cache-Control", "no-store")])
            }
        case (.streamEvents(let id), _):
            let query = try EventQuery(query: request.query)
            return .events(try controller.events(of: id, after: query.after, limit: query.limit), after: query.after)
        case (.events, _):
            let query = try EventQuery(query: request.query)
            return .events(try controller.feed(after: query.after, limit: query.limit), after: query.after)
        case (.metrics, _):
            guard let metrics else { throw ServiceError(.notFound, code: "metrics_off", "metrics are off (metrics.enabled)") }
            return APIResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics())
        case (.webhooks, _):
            guard let webhooks else { throw ServiceError(.notFound, code: "webhooks_off", "no webhook receiver is configured (events.webhooks.url)") }
            return .json(["webhooks": [try webhooks()]])
        }
    }

    /// A record answered to a client, with each pipeline's status now.
    private func withStatus(_ record: StreamRecord) -> StreamRecord {
        controller.withLiveStatus([record])[0]
    }

    /// The parsed JSON body; nil for an empty optional body.
    private func body(_ request: APIRequest, optional: Bool = false) throws(ServiceError) -> JSONValue? {
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if optional { return nil }
            throw ServiceError.badRequest("a JSON object body is required", code: "invalid_body")
        }
        do {
            return try JSONValue.parse(request.body)
        } catch {
            throw ServiceError.badRequest("the body is not valid JSON: \(error)", code: "invalid_json")
        }
    }

    private func preflight(_ route: APIRoute) -> APIResponse {
        APIResponse(status: 204, headers: [
            ("Access-Control-Allow-Methods", (route.methods + ["OPTIONS"]).joined(separator: ", ")),
            ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
            ("Access-Control-Max-Age", "600"),
        ])
    }

    /// `Authorization: Bearer <token>` against every configured token, in constant time.
    private func authorize(_ request: APIRequest) throws(ServiceError) {
        guard !configuration.apiTokens.isEmpty else { return }
        let header = request.headers["authorization"] ?? ""
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) else {
            throw ServiceError(.unauthorized, code: "unauthorized", "an Authorization: Bearer token is required")
        }
        let presented = header.dropFirst(prefix.count)
        var matched = false
        for token in configuration.apiTokens where constantTimeEquals(token, presented) { matched = true }
        guard matched else { throw ServiceError(.unauthorized, code: "unauthorized", "the bearer token is not valid") }
    }

    private func routeInternal(_ request: APIRequest) throws -> APIResponse {
        let prefix = "/_internal/"
        guard request.path.hasPrefix(prefix), let endpoint = internalEndpoints[String(request.path.dropFirst(prefix.count))] else {
            throw ServiceError(.notFound, code: "not_found", "no internal endpoint at this path")
        }
        var fields = FormFields.parse(request.query)
        if request.method == "POST" {
            // The URL is nginx's configuration; the body holds what publishers sent (their query
            // arguments among it), so the URL's fields win.
            fields.merge(FormFields.parse(String(decoding: request.body, as: UTF8.self))) { url, _ in url }
        }
        let answer = try endpoint.handle(InternalRequest(fields: fields))
        return APIResponse(status: answer.status, headers: answer.headers, body: Array(answer.body.utf8))
    }
}

/// API settings: where it is mounted, CORS, tokens.
public struct APIConfiguration: Sendable {
    /// Path prefix the API is mounted under (`""` or e.g. `/api`).
    public var prefix: String
    public var corsOrigin: String
    /// When non-empty, `/streams` requests need one of these as a bearer token.
    public var apiTokens: [String]

    public init(prefix: String = "", corsOrigin: String = "*", apiTokens: [String] = []) {
        var trimmed = prefix
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if !trimmed.isEmpty && !trimmed.hasPrefix("/") { trimmed = "/" + trimmed }
        self.prefix = trimmed
        self.corsOrigin = corsOrigin
        self.apiTokens = apiTokens
    }
}
