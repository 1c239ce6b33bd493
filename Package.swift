// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "livestreamd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "livestreamd", targets: ["livestreamd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // libfcgi from Debian's libfcgi-dev.
        .systemLibrary(
            name: "CFastCGI",
            path: "Sources/CFastCGI",
            providers: [.apt(["libfcgi-dev"])]
        ),
        // libfcgi's OS layer, redefined so it reads and writes validated requests in memory.
        .target(name: "CFastCGIFeed", path: "Sources/CFastCGIFeed"),
        // Socket calls Swift's Glibc module lacks (accept4, descriptor passing).
        .target(name: "CSocketSupport", path: "Sources/CSocketSupport"),
        // Transport: a concurrent FastCGI responder over libfcgi, behind a bounded front door.
        .target(
            name: "FastCGIServer",
            dependencies: ["CFastCGI", "CFastCGIFeed", "CSocketSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The log handler: one line per event, batched per request thread.
        .target(name: "LogOutput", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // The seams, the stream record, the controller, configuration and the plugin registry.
        .target(
            name: "LivestreamCore",
            dependencies: [.product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: strict
        ),
        // Transport-free REST layer: routing, JSON, auth, OpenAPI document.
        .target(
            name: "LivestreamAPI",
            dependencies: ["LivestreamCore", .product(name: "Logging", package: "swift-log")],
            resources: [.embedInCode("openapi.json")],
            swiftSettings: strict
        ),

        // AWS plumbing shared by the AWS plugins (never by the core): signing, credentials, protocols, retries.
        .target(
            name: "AWSClient",
            dependencies: ["LivestreamCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Webhook delivery of the event journal (HTTP through AWSClient's transport, HMAC from swift-crypto).
        .target(
            name: "Webhooks",
            dependencies: ["LivestreamCore", "AWSClient", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Plugins: each depends on the core only and registers itself by name.
        .target(name: "FileStorage", dependencies: ["LivestreamCore"], path: "Plugins/FileStorage", swiftSettings: strict),
        .target(name: "NoCDN", dependencies: ["LivestreamCore"], path: "Plugins/NoCDN", swiftSettings: strict),
        .target(name: "LocalMedia", dependencies: ["LivestreamCore"], path: "Plugins/LocalMedia", swiftSettings: strict),
        .target(name: "FileArchive", dependencies: ["LivestreamCore"], path: "Plugins/FileArchive", swiftSettings: strict),
        .target(name: "HLSSplitter", dependencies: ["LivestreamCore"], path: "Plugins/HLSSplitter", swiftSettings: strict),
        .target(name: "DynamoDBStorage", dependencies: ["LivestreamCore", "AWSClient"], path: "Plugins/DynamoDBStorage", swiftSettings: strict),
        .target(name: "S3Archive", dependencies: ["LivestreamCore", "AWSClient"], path: "Plugins/S3Archive", swiftSettings: strict),
        .target(name: "CloudFrontCDN", dependencies: ["LivestreamCore", "AWSClient", .product(name: "Logging", package: "swift-log")], path: "Plugins/CloudFrontCDN", swiftSettings: strict),
        .target(
            name: "MediaLiveMedia", dependencies: ["LivestreamCore", "AWSClient", .product(name: "Logging", package: "swift-log")],
            path: "Plugins/MediaLiveMedia", resources: [.embedInCode("channel-template.json")], swiftSettings: strict),

        .executableTarget(
            name: "livestreamd",
            dependencies: [
                "FastCGIServer", "LivestreamCore", "LivestreamAPI", "LogOutput", "Webhooks",
                "FileStorage", "DynamoDBStorage", "NoCDN", "CloudFrontCDN", "LocalMedia", "MediaLiveMedia", "FileArchive", "S3Archive", "HLSSplitter",
                .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // Test support: a second process writing to a file store (used by FileStorageTests).
        .executableTarget(
            name: "StoreHammer",
            dependencies: ["FileStorage", "LivestreamCore"],
            path: "Tests/StoreHammer",
            swiftSettings: strict
        ),

        // Test support shared by the test targets (seeded randomness).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "FastCGIServerTests", dependencies: ["FastCGIServer", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "LogOutputTests", dependencies: ["LogOutput", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "LivestreamCoreTests", dependencies: ["LivestreamCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LivestreamAPITests", dependencies: ["LivestreamAPI", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "FileStorageTests", dependencies: ["FileStorage", "LivestreamCore", "StoreHammer"], swiftSettings: strict),
        .testTarget(name: "FileArchiveTests", dependencies: ["FileArchive", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "HLSSplitterTests", dependencies: ["HLSSplitter", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "LocalMediaTests", dependencies: ["LocalMedia", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "AWSClient", "LivestreamCore", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // Test support: moto_server on loopback for the AWS tests.
        .target(
            name: "AWSTestSupport", dependencies: ["AWSClient", .product(name: "Logging", package: "swift-log")],
            path: "Tests/AWSTestSupport", swiftSettings: strict),
        .testTarget(
            name: "AWSClientTests", dependencies: ["AWSClient", "AWSTestSupport", "LivestreamCore", "LivestreamAPI", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(name: "S3ArchiveTests", dependencies: ["S3Archive", "AWSClient", "AWSTestSupport", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "DynamoDBStorageTests", dependencies: ["DynamoDBStorage", "AWSClient", "AWSTestSupport", "LivestreamCore"], swiftSettings: strict),
        .testTarget(
            name: "StorageConformanceTests",
            dependencies: ["FileStorage", "DynamoDBStorage", "AWSClient", "AWSTestSupport", "LivestreamCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(name: "CloudFrontCDNTests", dependencies: ["CloudFrontCDN", "LivestreamCore"], swiftSettings: strict),
        .testTarget(name: "MediaLiveMediaTests", dependencies: ["MediaLiveMedia", "AWSClient", "LivestreamCore"], swiftSettings: strict),
    ]
)
