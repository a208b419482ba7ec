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
