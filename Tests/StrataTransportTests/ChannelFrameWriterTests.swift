import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import StrataTransport

@Suite("WebSocket frames written by ChannelFrameWriter")
struct ChannelFrameWriterTests {
    /// What NIO's own encoder puts on the wire for the same text frame.
    func nioEncoded(_ payload: [UInt8]) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        var data = ByteBufferAllocator().buffer(capacity: payload.count)
        data.writeBytes(payload)
        try channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: data)).wait()
        var out: [UInt8] = []
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { out += chunk.readBytes(length: chunk.readableBytes) ?? [] }
        _ = try channel.finish()
        return out
    }

    /// Every length form (7-bit, 16-bit, 64-bit) and its boundaries match NIO's encoder byte for byte.
    @Test(arguments: [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
    func matchesNIOEncoder(_ size: Int) throws {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var frame = ChannelFrameWriter.textFrame([payload])
        #expect(frame.readBytes(length: frame.readableBytes) == (try nioEncoded(payload)))
    }

    @Test func batchIsNewlineJoinedInOneFrame() throws {
        var frame = ChannelFrameWriter.textFrame([Array("{\"a\":1}".utf8), Array("{\"b\":2}".utf8)])
        #expect(frame.readBytes(length: frame.readableBytes) == (try nioEncoded(Array("{\"a\":1}\n{\"b\":2}".utf8))))
    }
}
