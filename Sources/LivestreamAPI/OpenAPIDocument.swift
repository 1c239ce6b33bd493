/// The OpenAPI 3.1 description of the API, kept in `openapi.json` beside this file and embedded at build time.
enum OpenAPIDocument {
    static let bytes: [UInt8] = PackageResources.openapi_json
}
