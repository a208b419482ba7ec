import NIOCore
import NIOEmbedded
import Testing

@testable import StrataHTTP

/// An HTTP connection with no traffic for the idle timeout is closed; traffic either way keeps
/// it open; taken out of the pipeline (a WebSocket upgrade, a stream) it no longer closes
/// anything (`HTTPIdleTimeout`).
@Suite("HTTP idle timeout")
struct HTTPIdleTimeoutTests {
    func connected() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(HTTPIdleTimeout(timeout: .seconds(30)), name: HTTPIdleTimeout.name)
        return channel
    }

    @Test func anIdleConnectionClosesAfterTheTimeout() throws {
        let channel = try connected()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func readsAndWritesKeepItOpen() throws {
        let channel = try connected()
        for second in 1...120 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            if second % 20 == 0 { try channel.writeInbound(ByteBuffer(string: "x")) }
            if second % 20 == 10 { try channel.writeOutbound(ByteBuffer(string: "y")) }
        }
        #expect(channel.isActive)
        // Then silence: closed one timeout after the last traffic (a read at 120 s).
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func removedItClosesNothing() throws {
        let channel = try connected()
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        _ = channel.pipeline.syncOperations.removeHandler(name: HTTPIdleTimeout.name)
        channel.embeddedEventLoop.run()
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}
