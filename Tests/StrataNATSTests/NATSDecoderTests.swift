import NIOCore
import NIOEmbedded
import Testing

@testable import StrataNATS

@Suite("NATS protocol decoder")
struct NATSDecoderTests {
    /// Feeds `chunks` one by one (a message split anywhere must come out whole) and returns the ops.
    func decode(_ chunks: [String]) throws -> [NATSServerOp] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSDecoder()))
        var ops: [NATSServerOp] = []
        for chunk in chunks {
            try channel.writeInbound(channel.allocator.buffer(string: chunk))
            while let op = try channel.readInbound(as: NATSServerOp.self) { ops.append(op) }
        }
        return ops
    }

    @Test func everyOperationAndAMessageSplitAnywhere() throws {
        let wire = "INFO {\"server_id\":\"x\"}\r\nPING\r\nMSG a.b 7 5\r\nhello\r\n+OK\r\nPONG\r\nMSG c 1 reply.to 0\r\n\r\n-ERR 'Authorization Violation'\r\n"
        let whole = try decode([wire])
        let alloc = ByteBufferAllocator()
        let expected: [NATSServerOp] = [
            .info("{\"server_id\":\"x\"}"), .ping, .msg(subject: "a.b", sid: 7, payload: alloc.buffer(string: "hello")), .ok, .pong,
            .msg(subject: "c", sid: 1, payload: alloc.buffer(string: "")), .err("Authorization Violation"),
        ]
        #expect(whole == expected)
        // Split at every position: the same operations.
        for cut in 1..<wire.utf8.count {
            let bytes = Array(wire.utf8)
            let parts = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            #expect(try decode(parts) == expected, "cut at \(cut)")
        }
    }

    /// A payload holding \r\n is read by its length, not by lines.
    @Test func aPayloadWithLineBreaksIsReadByLength() throws {
        let ops = try decode(["MSG s 2 6\r\na\r\nb\r\n\r\nPING\r\n"])
        #expect(ops == [.msg(subject: "s", sid: 2, payload: ByteBufferAllocator().buffer(string: "a\r\nb\r\n")), .ping])
    }

    @Test(arguments: ["MSG s x 1\r\na\r\n", "MSG s 1 -1\r\n\r\n", "WHAT\r\n"])
    func malformedLinesAreErrors(_ wire: String) {
        #expect(throws: (any Error).self) { _ = try decode([wire]) }
    }

    @Test func anEndlessLineIsAnError() {
        #expect(throws: (any Error).self) { _ = try decode([String(repeating: "x", count: 70_000)]) }
    }
}
