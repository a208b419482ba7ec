import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing

import StrataHub

@testable import StrataTransport

@Suite("WebSocket frames written by ChannelFrameWriter")
struct ChannelFrameWriterTests {
    /// What NIO's own encoder puts on the wire for the same text frame.
    func nioEncoded(_ payload: [UInt8], opcode: WebSocketOpcode = .text) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        var data = ByteBufferAllocator().buffer(capacity: payload.count)
        data.writeBytes(payload)
        try channel.writeAndFlush(WebSocketFrame(fin: true, opcode: opcode, data: data)).wait()
        var out: [UInt8] = []
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { out += chunk.readBytes(length: chunk.readableBytes) ?? [] }
        _ = try channel.finish()
        return out
    }

    /// Every length form (7-bit, 16-bit, 64-bit) and its boundaries match NIO's encoder byte for byte.
    @Test(arguments: [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
    func matchesNIOEncoder(_ size: Int) throws {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var frame = ChannelFrameWriter.dataFrame([payload], .newlineJoinedText)
        #expect(frame.readBytes(length: frame.readableBytes) == (try nioEncoded(payload)))
    }

    @Test func batchIsNewlineJoinedInOneFrame() throws {
        var frame = ChannelFrameWriter.dataFrame([Array("{\"a\":1}".utf8), Array("{\"b\":2}".utf8)], .newlineJoinedText)
        #expect(frame.readBytes(length: frame.readableBytes) == (try nioEncoded(Array("{\"a\":1}\n{\"b\":2}".utf8))))
    }

    /// Protobuf batches (transports.md §3.3): a binary message, every reply varint-prefixed,
    /// the server ping (an empty reply) as the byte 00.
    @Test func protobufBatchIsVarintDelimitedInOneBinaryFrame() throws {
        let publishReply: [UInt8] = [0x08, 0x03, 0x42, 0x00]
        var frame = ChannelFrameWriter.dataFrame([publishReply, []], .varintDelimitedBinary)
        #expect(
            frame.readBytes(length: frame.readableBytes)
                == (try nioEncoded([0x04, 0x08, 0x03, 0x42, 0x00, 0x00], opcode: .binary)))
        let big = [UInt8](repeating: 7, count: 300)
        var long = ChannelFrameWriter.dataFrame([big], .varintDelimitedBinary)
        #expect(long.readBytes(length: long.readableBytes) == (try nioEncoded([0xAC, 0x02] + big, opcode: .binary)))
    }
}

/// A publication fanned out to a loop's connections is framed once (`FramedMessageCache`):
/// every connection writes the same buffer.
@Suite("Writers on one event loop share a publication's framed bytes")
struct SharedFramingTests {
    /// Holds its context, for a writer that needs one.
    final class ContextKeeper: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = Never
        var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    }

    let publication = Array(#"{"push":{"channel":"news","pub":{"data":{"n":1},"offset":7}}}"#.utf8)

    func written(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(buffer) }
        return out
    }

    func address(_ buffer: ByteBuffer) -> Int { buffer.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } }

    @Test func webSocketWritersWriteOneFrame() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        var frames: [ByteBuffer] = []
        for _ in 0..<3 {
            let channel = EmbeddedChannel(loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            let queue = OutboundQueue(maxBytes: 1 << 20)
            ChannelFrameWriter(channel: channel, queue: queue, batcher: batcher, batching: .newlineJoinedText).start()
            _ = queue.enqueue(publication)
            loop.run()
            frames += try written(channel)
        }
        #expect(frames.count == 3)
        #expect(frames.allSatisfy { $0 == ChannelFrameWriter.dataFrame([publication], .newlineJoinedText) })
        #expect(Set(frames.map(address)).count == 1)
    }

    @Test func sseWritersWriteOneChunk() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        var chunks: [ByteBuffer] = []
        for _ in 0..<3 {
            let keeper = ContextKeeper()
            let channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandlers([HTTPResponseEncoder(), keeper])
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            let context = try #require(keeper.context)
            let queue = OutboundQueue(maxBytes: 1 << 20)
            HTTPStreamWriter(
                context: context, queue: queue, batcher: batcher, framing: .serverSentEvents, disconnectMessage: { _ in [] }, chunked: true
            ).start()
            _ = queue.enqueue(publication)
            loop.run()
            chunks += try written(channel)
        }
        #expect(chunks.count == 3)
        #expect(chunks.allSatisfy { $0 == HTTPStreamFraming.serverSentEvents.encode([publication], allocator: ByteBufferAllocator(), chunked: true) })
        #expect(Set(chunks.map(address)).count == 1)
    }
}
