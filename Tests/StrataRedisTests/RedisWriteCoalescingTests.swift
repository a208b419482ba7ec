import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import StrataRedis

/// Requests made in one batch of the event loop's work leave in one flush.
@Suite struct RedisWriteCoalescingTests {
    @Test func requestsOfOneBatchGoOutTogetherAfterIt() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: try RedisCommandHandler(ioTimeout: .seconds(5), logger: Logger(label: "test")), loop: loop)
        var replies: [EventLoopFuture<[RESPValue]>] = []
        for key in ["a", "b", "c"] {
            let promise = loop.makePromise(of: [RESPValue].self)
            channel.writeAndFlush(RedisRequest(commands: [RESPCommand("GET", key)], promise: promise), promise: nil)
            replies.append(promise.futureResult)
        }
        // Nothing is on the wire while the loop still has queued work…
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        loop.run()
        // …then all three are, in order, from one flush.
        var wire = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let text = String(buffer: wire)
        #expect(text == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\n")
        _ = try? channel.finish()
        for reply in replies { reply.whenComplete { _ in } }
    }
}
