// swift-tools-version:6.1
// Strata: a Centrifugo-compatible real-time messaging server with durable channel history.
// The module list reads like the architecture: see docs/architecture.md.

import class Foundation.ProcessInfo
import PackageDescription

/// Settings shared by every Strata target (Swift 6 language mode is the tools-version default).
/// Declarations shared between modules are `package`, not `public`: the only product is the
/// `strata` executable, so nothing is API for code outside this package.
let strataSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // A file sees only the members of modules it imports itself, so `import` lines (and the
    // graph scripts/check-modules.py reads from them) are the real dependencies.
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Link flags of the release `strata` binary, which `make release` builds with the Swift runtime
/// and Foundation inside (`--static-swift-stdlib`: nothing to install where it runs, and it starts
/// fast; `strata delta` is a command users run in loops). lld packs the relative relocations of
/// the position-independent binary (RELR: the binary then needs glibc ≥ 2.36, as on Debian 12),
/// and the version script keeps its symbols out of the dynamic table (nothing looks them up by
/// name; the symbol table for debuggers stays). docs/benchmarks-log.md §5 has the figures.
let releaseLinkFlags = [
    "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/strata/exports.map",
]

let package = Package(
    name: "strata",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strata", targets: ["strata"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries, used through pkg-config (Debian: liblmdb-dev, libzstd-dev, libhiredis-dev).
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // glibc's <malloc.h> (malloc_trim), part of libc.
        .systemLibrary(name: "CMalloc"),

        // Value types shared by every module; no I/O.
        .target(name: "StrataCore", swiftSettings: strataSettings),
        // Client protocol v2: commands and results as values, the ClientCodec seam, the JSON codec.
        .target(name: "StrataProtocol", dependencies: ["StrataCore"], swiftSettings: strataSettings),
        // The HistoryStore seam and the in-memory stream store.
        .target(
            name: "StrataHistory",
            dependencies: ["StrataCore", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: strataSettings
        ),
        // The at-rest publication record (zstd-compressed payloads) of the LMDB and Redis stores.
        .target(name: "StrataRecordFormat", dependencies: ["StrataCore", "StrataCompression"], swiftSettings: strataSettings),
        // The Broker and PresenceManager seams, with their single-node implementations.
        .target(name: "StrataBroker", dependencies: ["StrataCore", "StrataHistory"], swiftSettings: strataSettings),
        // Fossil delta encoder and applier, pure Swift.
        .target(name: "StrataDelta", swiftSettings: strataSettings),
        // zstd with reused contexts (stored payload compression).
        .target(name: "StrataCompression", dependencies: ["StrataCore", "CZstd"], swiftSettings: strataSettings),
        // The embedded durable history store: LMDB through liblmdb.
        .target(
            name: "StrataLMDB",
            dependencies: ["StrataCore", "StrataHistory", "StrataRecordFormat", "StrataCompression", "CLMDB"],
            swiftSettings: strataSettings
        ),
        // Redis through hiredis's RESP reader, SwiftNIO sockets (the engine for several nodes):
        // the client (Client/), and the history store, broker and presence on it (Engine/, Lua/).
        .target(
            name: "StrataRedis",
            dependencies: [
                "StrataCore", "StrataHistory", "StrataRecordFormat", "StrataBroker", "StrataCompression", "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("Lua/history_add.lua"), .embedInCode("Lua/history_get.lua"),
                .embedInCode("Lua/history_remove.lua"), .embedInCode("Lua/presence_add.lua"),
                .embedInCode("Lua/presence_remove.lua"), .embedInCode("Lua/presence_get.lua"),
            ],
            swiftSettings: strataSettings
        ),
        // Pure recovery decisions: the whole subscribe decision (stream and cache mode, buffered
        // publications, long gaps) and the live position check.
        .target(name: "StrataRecovery", dependencies: ["StrataCore"], swiftSettings: strataSettings),
        // Connection and subscription tokens (JWT through jwt-kit).
        .target(
            name: "StrataAuth",
            dependencies: [
                "StrataCore", "StrataProtocol", .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strataSettings
        ),
        // Configuration model with Centrifugo v6 key names; JSON, YAML and TOML loaders.
        .target(
            name: "StrataConfig",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strataSettings
        ),
        // Node, hub, client sessions: authentication, subscriptions, fan-out, timers; builds no
        // wire bytes (each session's ClientCodec does).
        .target(
            name: "StrataHub",
            dependencies: [
                "StrataCore", "StrataProtocol", "StrataHistory", "StrataBroker", "StrataRecovery", "StrataAuth", "StrataConfig",
                "StrataDelta", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: strataSettings
        ),
        // The HTTP/1 server: its listening socket, WebSocket upgrades handed to a transport's
        // handlers, handlers ahead of Hummingbird's HTTP types codec, request tasks on their loop.
        .target(
            name: "StrataHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strataSettings
        ),
        // The WebSocket transport: NIO channel handlers feeding client sessions, frames written on the event loop.
        .target(
            name: "StrataTransport",
            dependencies: [
                "StrataHub", "StrataHTTP", "StrataCore", "StrataProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strataSettings
        ),
        // HTTP server API (/api/<method> and the older /api), answered in the connection's pipeline.
        .target(
            name: "StrataServerAPI",
            dependencies: [
                "StrataHub", "StrataHTTP", "StrataProtocol", "StrataConfig", "StrataCore", "StrataAuth",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strataSettings
        ),
        // Composition root: config → stores → node → transports + API.
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataHub", "StrataHTTP", "StrataTransport", "StrataServerAPI", "StrataConfig", "StrataCore", "StrataHistory",
                "StrataBroker", "StrataLMDB", "StrataRedis", "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strataSettings
        ),
        // Test support shared by test targets: the HistoryStore, Broker and PresenceManager
        // contract suites, the broker event recorder, a seeded generator.
        .target(name: "StrataTesting", dependencies: ["StrataCore", "StrataHistory", "StrataBroker"], swiftSettings: strataSettings),
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataServer", "StrataConfig", "StrataAuth", "StrataCore", "StrataDelta", "StrataHub", "StrataLMDB", "StrataProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["exports.map"],
            swiftSettings: strataSettings,
            linkerSettings: [.unsafeFlags(releaseLinkFlags, .when(configuration: .release))]
        ),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataProtocolTests", dependencies: ["StrataProtocol", "StrataCore", "StrataTesting"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataHistoryTests", dependencies: ["StrataHistory", "StrataTesting", "StrataCore"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataRedisTests",
            dependencies: [
                "StrataRedis", "StrataTesting", "StrataHistory", "StrataBroker", "StrataHTTP", "StrataCore",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strataSettings),
        .testTarget(
            name: "StrataBrokerTests", dependencies: ["StrataBroker", "StrataHistory", "StrataTesting"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataDeltaTests", dependencies: ["StrataDelta", "StrataTesting"], exclude: ["Vectors"], swiftSettings: strataSettings),
        .testTarget(name: "StrataCompressionTests", dependencies: ["StrataCompression"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataRecordFormatTests", dependencies: ["StrataRecordFormat", "StrataCompression", "StrataCore", "StrataTesting"],
            swiftSettings: strataSettings),
        .testTarget(
            name: "StrataLMDBTests", dependencies: ["StrataLMDB", "StrataTesting", "StrataHistory", "StrataCore", "CLMDB"],
            swiftSettings: strataSettings),
        .testTarget(name: "StrataRecoveryTests", dependencies: ["StrataRecovery", "StrataCore"], swiftSettings: strataSettings),
        .testTarget(name: "StrataConfigTests", dependencies: ["StrataConfig"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataAuthTests",
            dependencies: [
                "StrataAuth", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strataSettings),
        .testTarget(name: "StrataServerTests", dependencies: ["StrataServer"], swiftSettings: strataSettings),
        .testTarget(
            name: "StrataTransportTests",
            dependencies: [
                "StrataTransport", "StrataHTTP", "StrataHub", "StrataConfig", "StrataBroker", "StrataHistory", "StrataCore",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strataSettings),
        .testTarget(
            name: "StrataServerAPITests",
            dependencies: [
                "StrataServerAPI", "StrataHTTP", "StrataHub", "StrataHistory", "StrataBroker", "StrataConfig", "StrataCore", "StrataProtocol",
                "StrataAuth",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strataSettings),
        .testTarget(
            name: "StrataHubTests",
            dependencies: [
                "StrataHub", "StrataHistory", "StrataBroker", "StrataConfig", "StrataProtocol", "StrataAuth", "StrataDelta", "StrataCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strataSettings),
    ]
)

// Benchmarks build only on request (STRATA_BENCHMARKS=1), so everyday builds and CI skip them.
if ProcessInfo.processInfo.environment["STRATA_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "StrataBenchmarks",
            dependencies: [
                "StrataHistory", "StrataLMDB", "StrataRedis", "StrataCompression", "StrataCore", "StrataDelta", "CLMDB",
                "StrataHub", "StrataBroker", "StrataConfig", "StrataProtocol",
                .product(name: "Benchmark", package: "benchmark"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StrataBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
