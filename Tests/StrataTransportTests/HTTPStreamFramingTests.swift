import NIOCore
import Testing

@testable import StrataTransport

/// The body framings of the HTTP streams (transports spec §2.1).
@Suite("HTTP stream framing")
struct HTTPStreamFramingTests {
    func encoded(_ framing: HTTPStreamFraming, _ messages: [String]) -> String {
        var buffer = framing.encode(messages.map { Array($0.utf8) }, allocator: ByteBufferAllocator())
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    @Test func jsonLinesEndEveryMessageWithANewline() {
        #expect(encoded(.newlineTerminated, [#"{"id":1}"#, "{}"]) == "{\"id\":1}\n{}\n")
    }

    @Test func sseEventsAreDataLinesAndAnEmptyLine() {
        #expect(encoded(.serverSentEvents, [#"{"id":1}"#, "{}"]) == "data: {\"id\":1}\n\ndata: {}\n\n")
    }

    @Test func protobufIsVarintDelimited() {
        var buffer = HTTPStreamFraming.varintDelimited.encode([[0x08, 0x03, 0x42, 0x00], []], allocator: ByteBufferAllocator())
        #expect(buffer.readBytes(length: buffer.readableBytes) == [0x04, 0x08, 0x03, 0x42, 0x00, 0x00])
    }
}

@Suite("HTTP/1.1 chunks framed by the stream writer")
struct HTTPChunkTests {
    @Test(arguments: [(0, "0"), (1, "1"), (15, "f"), (16, "10"), (255, "ff"), (4096, "1000"), (70_000, "11170")])
    func chunkSizeLines(_ size: Int, _ hex: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        HTTPStreamFraming.writeChunkSize(size, to: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == hex + "\r\n")
    }

    @Test func aBatchIsOneChunk() {
        var buffer = HTTPStreamFraming.newlineTerminated.encode([Array("{}".utf8), Array("{\"a\":1}".utf8)], allocator: ByteBufferAllocator(), chunked: true)
        #expect(buffer.readString(length: buffer.readableBytes) == "b\r\n{}\n{\"a\":1}\n\r\n")
    }
}
