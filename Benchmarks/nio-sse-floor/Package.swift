// swift-tools-version:6.0
// The floor of an SSE fan-out on SwiftNIO (Benchmarks/README.md): a server that does nothing but
// write each publication to every subscriber. Built on its own, never by the project's build:
//   swift build -c release --package-path Benchmarks/nio-sse-floor
import PackageDescription

let package = Package(
    name: "nio-sse-floor",
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")],
    targets: [
        .executableTarget(
            name: "nio-sse-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ])
    ]
)
