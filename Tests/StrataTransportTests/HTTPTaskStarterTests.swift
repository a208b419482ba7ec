import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing

@testable import StrataHTTP

/// An HTTP connection's task starts with the first request part that reaches the router, and a
/// connection without one closes at the client's half-close (`HTTPTaskStarter`).
@Suite("HTTP connection task started on demand")
struct HTTPTaskStarterTests {
    final class Starts: Sendable {
        let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func start() { count.withLock { $0 += 1 } }
    }

    let head = HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "x", path: "/health"))

    @Test func startsAtTheFirstReadAfterArming() throws {
        let starter = HTTPTaskStarter()
        let channel = EmbeddedChannel(handler: starter)
        let starts = Starts()
        starter.arm { starts.start() }
        #expect(starts.value == 0)
        try channel.writeInbound(head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(starts.value == 1)
        #expect(try channel.readInbound(as: HTTPRequestPart.self) != nil)  // passed on
        _ = try channel.finish()
    }

    @Test func aReadBeforeArmingStartsAtTheArming() throws {
        let starter = HTTPTaskStarter()
        let channel = EmbeddedChannel(handler: starter)
        let starts = Starts()
        try channel.writeInbound(head)
        #expect(starts.value == 0)
        starter.arm { starts.start() }
        #expect(starts.value == 1)
        starter.arm { starts.start() }
        #expect(starts.value == 1)
        _ = try channel.finish()
    }

    /// An embedded channel is active once "connected".
    func connected(_ starter: HTTPTaskStarter) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: starter)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(channel.isActive)
        return channel
    }

    @Test func aHalfCloseWithoutATaskClosesTheConnection() throws {
        let starter = HTTPTaskStarter()
        let channel = try connected(starter)
        starter.arm {}
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!channel.isActive)
    }

    @Test func aHalfCloseWithATaskIsTheTasks() throws {
        let starter = HTTPTaskStarter()
        let channel = try connected(starter)
        starter.arm {}
        try channel.writeInbound(head)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}
