import StrataTesting
import Testing

@testable import StrataRedis

/// Feeds `chunks` in order and collects every reply, as a connection would.
func decode(_ chunks: [[UInt8]]) throws -> [RESPValue] {
    let reader = try RESPReader()
    var replies: [RESPValue] = []
    for chunk in chunks {
        try reader.feed(chunk)
        while let reply = try reader.next() { replies.append(reply) }
    }
    return replies
}

/// Splits `bytes` at random points into chunks of 1...maxChunk bytes.
func randomChunks(_ bytes: [UInt8], maxChunk: Int, seed: UInt64) -> [[UInt8]] {
    var rng = SplitMix(state: seed)
    var chunks: [[UInt8]] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + Int.random(in: 1...maxChunk, using: &rng))
        chunks.append(Array(bytes[start..<end]))
        start = end
    }
    return chunks
}

@Suite("RESPReader")
struct RESPReaderTests {
    /// Every RESP2 reply type, nulls and empties included, back to back.
    static let mixedInput = Array(
        ("+OK\r\n" + "-ERR wrong type\r\n" + ":42\r\n" + ":-7\r\n" + "$0\r\n\r\n" + "$-1\r\n" + "*-1\r\n" + "*0\r\n"
            + "$5\r\nhello\r\n" + "$4\r\na\r\nb\r\n"
            + "*3\r\n*2\r\n:1\r\n$3\r\nfoo\r\n*1\r\n$-1\r\n*2\r\n*1\r\n*0\r\n+inner\r\n" + "+PONG\r\n").utf8)

    static let mixedExpected: [RESPValue] = [
        .simpleString("OK"), .error("ERR wrong type"), .integer(42), .integer(-7), .bulkString([]), .null, .null, .array([]),
        .bulkString(Array("hello".utf8)), .bulkString(Array("a\r\nb".utf8)),
        .array([
            .array([.integer(1), .bulkString(Array("foo".utf8))]),
            .array([.null]),
            .array([.array([.array([])]), .simpleString("inner")]),
        ]),
        .simpleString("PONG"),
    ]

    /// hiredis allocates an array's element table when it reads the count: a count above the
    /// bound is refused at once, rather than allocated (found by the RESP fuzz harness, which hit
    /// a 2.3 GB allocation from `*288888888`); the bound itself is still read.
    @Test func arrayHeadersAboveTheBoundAreRefused() throws {
        let over = try RESPReader()
        try over.feed(Array("*\(RESPReader.maxArrayElements + 1)\r\n".utf8))
        #expect(throws: RedisError.self) { try over.next() }
        let huge = try RESPReader()
        try huge.feed(Array("*2147483647\r\n".utf8))
        #expect(throws: RedisError.self) { try huge.next() }
        let atTheBound = try RESPReader()
        try atTheBound.feed(Array("*\(RESPReader.maxArrayElements)\r\n:1\r\n".utf8))
        #expect(try atTheBound.next() == nil)  // waiting for the other elements
    }

    @Test func allAtOnce() throws {
        #expect(try decode([Self.mixedInput]) == Self.mixedExpected)
    }

    @Test func byteByByte() throws {
        #expect(try decode(Self.mixedInput.map { [$0] }) == Self.mixedExpected)
    }

    @Test(arguments: [1, 2, 3, 42, 0xDEAD_BEEF] as [UInt64])
    func randomChunks(seed: UInt64) throws {
        #expect(try decode(StrataRedisTests.randomChunks(Self.mixedInput, maxChunk: 7, seed: seed)) == Self.mixedExpected)
    }

    @Test func repliesComeOutOnlyWhenComplete() throws {
        let reader = try RESPReader()
        try reader.feed(Array("*2\r\n$3\r\nfo".utf8))
        #expect(try reader.next() == nil)
        try reader.feed(Array("o\r\n:1".utf8))
        #expect(try reader.next() == nil)
        try reader.feed(Array("\r\n".utf8))
        #expect(try reader.next() == .array([.bulkString(Array("foo".utf8)), .integer(1)]))
        #expect(try reader.next() == nil)
    }

    @Test func oneMebibyteBulkString() throws {
        var rng = SplitMix(state: 7)
        let payload = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let input = Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n+OK\r\n".utf8)
        let expected: [RESPValue] = [.bulkString(payload), .simpleString("OK")]
        #expect(try decode([input]) == expected)
        #expect(try decode(StrataRedisTests.randomChunks(input, maxChunk: 4096, seed: 11)) == expected)
        #expect(try decode(StrataRedisTests.randomChunks(input, maxChunk: 100_000, seed: 12)) == expected)
    }

    @Test func garbageIsAProtocolErrorWithHiredisMessage() throws {
        let reader = try RESPReader()
        try reader.feed(Array("+OK\r\n?bad\r\n".utf8))
        #expect(try reader.next() == .simpleString("OK"))
        let error = #expect(throws: RedisError.self) { try reader.next() }
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("Protocol error") == true)
        // The reader stays failed: the rest of the stream cannot be split into replies any more.
        #expect(throws: RedisError.self) { try reader.feed(Array("+OK\r\n".utf8)) }
    }

    @Test func badLengthIsAProtocolError() throws {
        let error = #expect(throws: RedisError.self) { try decode([Array("$abc\r\n".utf8)]) }
        #expect(error?.code == .protocolError)
    }
}

@Suite("RESPCommand")
struct RESPCommandTests {
    @Test func encodesArrayOfBulkStrings() {
        let command = RESPCommand("SET", "key", [0, 13, 10] as [UInt8])
        #expect(command.encoded == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n".utf8) + [0, 13, 10] + Array("\r\n".utf8))
        #expect(command.encodedSize == command.encoded.count)
    }

    @Test func numbersAndEmptyArguments() {
        let command = RESPCommand("EXPIRE", "k", 30, "")
        #expect(command.arguments == [Array("EXPIRE".utf8), Array("k".utf8), Array("30".utf8), []])
        #expect(command.encoded == Array("*4\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n30\r\n$0\r\n\r\n".utf8))
    }

    @Test func readerParsesWhatTheEncoderWrites() throws {
        let long = [UInt8](repeating: 0x61, count: 12_345)
        let command = RESPCommand(arguments: [Array("EVAL".utf8), [], long, Array("0".utf8)])
        #expect(command.encodedSize == command.encoded.count)
        #expect(try decode([command.encoded]) == [.array(command.arguments.map(RESPValue.bulkString))])
    }
}
