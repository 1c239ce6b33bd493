import Foundation
import FastCGIServer
import LivestreamAPI
import LivestreamCore

/// Adapts FastCGI requests to the transport-free API.
struct APIResponder: FastCGIResponder {
    let api: StreamAPI

    func respond(to request: FastCGIRequest) -> FastCGIResponse {
        let started = ContinuousClock.now
        let apiRequest = apiRequest(request)
        let response = api.handle(apiRequest)
        // nginx-rtmp's hooks are counted too, as one route: their paths carry no ids worth a label.
        let route = apiRequest.isInternal ? "/_internal" : response.route ?? "unmatched"
        ServiceMetrics.request(route: route, status: response.status, duration: ContinuousClock.now - started)
        return FastCGIResponse(status: response.status, headers: response.headers, body: response.body, logReason: response.failure)
    }

    func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse {
        let response = api.payloadTooLarge(limit: limit)
        ServiceMetrics.request(route: "unmatched", status: response.status, duration: .zero)
        return FastCGIResponse(status: response.status, headers: response.headers, body: response.body, logReason: response.failure)
    }

    /// `CONTENT_TYPE`-style CGI name to `content-type` (ASCII only, as CGI names are).
    private static func headerName(_ cgi: Substring.UTF8View) -> String {
        String(decoding: cgi.map { byte in
            switch byte {
            case UInt8(ascii: "_"): UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
            default: byte
            }
        }, as: UTF8.self)
    }

    private func apiRequest(_ request: FastCGIRequest) -> APIRequest {
        var headers: [String: String] = [:]
        for (name, value) in request.params where name.hasPrefix("HTTP_") {
            headers[APIResponder.headerName(name.utf8.dropFirst(5))] = value
        }
        if let type = request.params["CONTENT_TYPE"] { headers["content-type"] = type }
        let target = request.params["REQUEST_URI"] ?? request.params["DOCUMENT_URI"] ?? "/"
        // Only nginx's loopback-only internal server sets this param; clients cannot set FastCGI params.
        let isInternal = request.params["LIVESTREAMD_INTERNAL"] == "1"
        return APIRequest(method: request.method, target: target, headers: headers, body: request.body, isInternal: isInternal)
    }
}
