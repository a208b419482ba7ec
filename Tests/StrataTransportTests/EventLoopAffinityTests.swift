import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StrataHTTP
import StrataTransport
import Testing

@Suite("Connection tasks on their event loop")
struct EventLoopAffinityTests {
    @Test func executorRunsJobsOnItsLoopAcrossSuspensions() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        for loop in group.makeIterator() {
            let onLoop = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                let before = loop.inEventLoop
                try await Task.sleep(for: .milliseconds(2))
                // A continuation resumed from another thread comes back to the loop.
                let fromOtherThread = try await MultiThreadedEventLoopGroup.singleton.next().submit { 1 }.get()
                return before && fromOtherThread == 1 && loop.inEventLoop
            }
            #expect(onLoop)
        }
        try await group.shutdownGracefully()
    }

    /// The route answers whether it runs on its connection's loop, before and after a suspension.
    /// Hummingbird's own server is the control: there the handler runs on the global pool.
    @Test(arguments: [true, false])
    func handlersRunOnTheConnectionsLoop(affine: Bool) async throws {
        let router = Router(context: StrataRequestContext.self)
        router.get("loop") { _, context -> String in
            let before = context.channel.eventLoop.inEventLoop
            try await Task.sleep(for: .milliseconds(1))
            return "\(before) \(context.channel.eventLoop.inEventLoop)"
        }
        let (portStream, port) = AsyncStream.makeStream(of: Int.self)
        let running: @Sendable (any Channel) -> Void = { channel in
            port.yield(channel.localAddress?.port ?? 0)
            port.finish()
        }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server: any Service =
            affine
            ? StrataHTTPServer(
                configuration: .init(host: "127.0.0.1", port: 0), responder: router.buildResponder(), webSocket: nil, logger: logger,
                onServerRunning: running)
            : Application(
                router: router, server: .http1(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { running($0) }, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let serviceGroup = ServiceGroup(configuration: .init(services: [server], logger: logger))
            tasks.addTask { try await serviceGroup.run() }
            var ports = portStream.makeAsyncIterator()
            let bound = try #require(await ports.next())
            let body = try await Self.get(port: bound, path: "/loop")
            #expect(body == (affine ? "true true" : "false false"))
            await serviceGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// One HTTP/1.1 GET over a plain socket; returns the body.
    static func get(port: Int, path: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            var response = ""
            for try await chunk in inbound { response += String(buffer: chunk) }
            return String(response.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
        }
    }
}
