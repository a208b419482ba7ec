import NIOCore

/// A value that can be one argument of a Redis command: every argument goes out as a bulk string.
///
/// Arguments write their bytes straight into the command's buffer: a script call has a dozen or
/// more, and a byte array for each was a fifth of what building the call cost.
package protocol RESPArgument: Sendable {
    /// The argument's length in bytes, for the bulk string header.
    var respByteCount: Int { get }
    /// Writes the argument's bytes (the header is written before).
    func writeRESPBytes(into buffer: inout ByteBuffer)
}

extension String: RESPArgument {
    package var respByteCount: Int { utf8.count }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { buffer.writeString(self) }
}

extension Substring: RESPArgument {
    package var respByteCount: Int { utf8.count }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { buffer.writeSubstring(self) }
}

extension Array: RESPArgument where Element == UInt8 {
    package var respByteCount: Int { count }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}

extension Int: RESPArgument {
    package var respByteCount: Int { decimalLength(self) }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { writeDecimal(self, into: &buffer) }
}

extension Int64: RESPArgument {
    package var respByteCount: Int { decimalLength(self) }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { writeDecimal(self, into: &buffer) }
}

extension UInt64: RESPArgument {
    package var respByteCount: Int { decimalLength(self) }
    package func writeRESPBytes(into buffer: inout ByteBuffer) { writeDecimal(self, into: &buffer) }
}

/// One Redis command: the name and its arguments, sent as a RESP array of bulk strings
/// (the only request form Redis must accept, and binary safe). Encoded once, when made.
package struct RESPCommand: Sendable, Hashable {
    /// How many bulk strings (the name included).
    let count: Int
    /// The bulk strings, `$<len>\r\n<bytes>\r\n` each, without the array header.
    let body: ByteBuffer

    package init(arguments: [[UInt8]]) {
        self.init(first: nil, arguments.map { $0 as any RESPArgument })
    }

    /// `RESPCommand("SET", key, payload)`, `RESPCommand("EXPIRE", key, 30)`.
    package init(_ name: String, _ arguments: any RESPArgument...) {
        self.init(first: name, arguments)
    }

    package init(_ name: String, arguments: [any RESPArgument]) {
        self.init(first: name, arguments)
    }

    private init(first: String?, _ rest: [any RESPArgument]) {
        var size = first.map { Self.bulkSize($0) } ?? 0
        for argument in rest { size += Self.bulkSize(argument) }
        var body = ByteBufferAllocator().buffer(capacity: size)
        if let first { Self.writeBulk(first, into: &body) }
        for argument in rest { Self.writeBulk(argument, into: &body) }
        self.count = rest.count + (first == nil ? 0 : 1)
        self.body = body
    }

    private static func bulkSize(_ argument: some RESPArgument) -> Int {
        let length = argument.respByteCount
        return 1 + decimalLength(length) + 2 + length + 2
    }

    private static func writeBulk(_ argument: some RESPArgument, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        writeDecimal(argument.respByteCount, into: &buffer)
        buffer.writeInteger(crlf)
        argument.writeRESPBytes(into: &buffer)
        buffer.writeInteger(crlf)
    }

    /// The command name first, then the arguments, exactly as sent (tests and tools).
    package var arguments: [[UInt8]] {
        var body = body
        var all: [[UInt8]] = []
        while body.readableBytes > 0, body.readInteger(as: UInt8.self) == UInt8(ascii: "$") {
            var length = 0
            while let digit = body.readInteger(as: UInt8.self), digit != UInt8(ascii: "\r") { length = length * 10 + Int(digit - 48) }
            body.moveReaderIndex(forwardBy: 1)
            all.append(body.readBytes(length: length) ?? [])
            body.moveReaderIndex(forwardBy: 2)
        }
        return all
    }

    /// Bytes this command takes on the wire, so a pipeline can size its buffer once.
    var encodedSize: Int { 1 + decimalLength(count) + 2 + body.readableBytes }

    /// Appends `*<n>\r\n` and then the bulk strings.
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(count, into: &buffer)
        buffer.writeInteger(crlf)
        buffer.writeImmutableBuffer(body)
    }

    /// The whole command as RESP bytes (tests and tools; the connection encodes straight into its buffer).
    package var encoded: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: encodedSize)
        encode(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// "\r\n" as one big-endian UInt16, so it is a single write.
private let crlf: UInt16 = 0x0D0A

private func decimalLength(_ value: some BinaryInteger) -> Int {
    var length = value < 0 ? 2 : 1
    var rest = value / 10
    while rest != 0 {
        length += 1
        rest /= 10
    }
    return length
}

/// Writes an integer in decimal without building a String: this runs for every argument.
private func writeDecimal<T: BinaryInteger>(_ value: T, into buffer: inout ByteBuffer) {
    let length = decimalLength(value)
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
        var rest = value
        if value < 0 { raw[0] = UInt8(ascii: "-") }
        for index in stride(from: length - 1, through: value < 0 ? 1 : 0, by: -1) {
            let digit = rest % 10
            raw[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: digit < 0 ? 0 - digit : digit)
            rest /= 10
        }
        return length
    }
}
