import Foundation
import FastCGIServer
import LivestreamAPI

/// Adapts FastCGI requests to the transport-free API.
struct APIResponder: FastCGIResponder {
    let api: StreamAPI

    func respond(to request: FastCGIRequest) -> FastCGIResponse {
        let response = api.handle(apiRequest(request))
        return FastCGIResponse(status: response.status, headers: response.headers, body: response.body)
    }

    func payloadTooLarge(_ request: FastCGIRequest, limit: Int) -> FastCGIResponse {
        let response = api.payloadTooLarge(limit: limit)
        return FastCGIResponse(status: response.status, headers: response.headers, body: response.body)
    }

    private func apiRequest(_ request: FastCGIRequest) -> APIRequest {
        var headers: [String: String] = [:]
        for (name, value) in request.params where name.hasPrefix("HTTP_") {
            headers[name.dropFirst(5).lowercased().replacingOccurrences(of: "_", with: "-")] = value
        }
        if let type = request.params["CONTENT_TYPE"] { headers["content-type"] = type }
        let target = request.params["REQUEST_URI"] ?? request.params["DOCUMENT_URI"] ?? "/"
        // Only nginx's loopback-only internal server sets this param; clients cannot set FastCGI params.
        let isInternal = request.params["LIVESTREAMD_INTERNAL"] == "1"
        return APIRequest(method: request.method, target: target, headers: headers, body: request.body, isInternal: isInternal)
    }
}
