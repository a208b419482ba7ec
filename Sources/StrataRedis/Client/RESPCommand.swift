import NIOCore

/// A value that can be one argument of a Redis command: every argument goes out as a bulk string.
public protocol RESPArgument: Sendable {
    var respBytes: [UInt8] { get }
}

extension String: RESPArgument {
    public var respBytes: [UInt8] { Array(utf8) }
}

extension Substring: RESPArgument {
    public var respBytes: [UInt8] { Array(utf8) }
}

extension Array: RESPArgument where Element == UInt8 {
    public var respBytes: [UInt8] { self }
}

extension Int: RESPArgument {
    public var respBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RESPArgument {
    public var respBytes: [UInt8] { Array(String(self).utf8) }
}

extension UInt64: RESPArgument {
    public var respBytes: [UInt8] { Array(String(self).utf8) }
}

/// One Redis command: the name and its arguments, sent as a RESP array of bulk strings
/// (the only request form Redis must accept, and binary safe).
public struct RESPCommand: Sendable, Hashable {
    /// The command name first, then the arguments, exactly as sent.
    public var arguments: [[UInt8]]

    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// `RESPCommand("SET", key, payload)`, `RESPCommand("EXPIRE", key, 30)`.
    public init(_ name: String, _ arguments: any RESPArgument...) {
        self.init(name, arguments: arguments)
    }

    public init(_ name: String, arguments: [any RESPArgument]) {
        var all: [[UInt8]] = []
        all.reserveCapacity(arguments.count + 1)
        all.append(Array(name.utf8))
        for argument in arguments { all.append(argument.respBytes) }
        self.arguments = all
    }

    /// Bytes this command takes on the wire, so a pipeline can size its buffer once.
    var encodedSize: Int {
        var size = 1 + decimalLength(arguments.count) + 2
        for argument in arguments { size += 1 + decimalLength(argument.count) + 2 + argument.count + 2 }
        return size
    }

    /// Appends `*<n>\r\n` and then `$<len>\r\n<bytes>\r\n` for each argument.
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimalLine(arguments.count, into: &buffer)
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimalLine(argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeInteger(crlf)
        }
    }

    /// The whole command as RESP bytes (tests and tools; the connection encodes straight into its buffer).
    public var encoded: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: encodedSize)
        encode(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// "\r\n" as one big-endian UInt16, so it is a single write.
private let crlf: UInt16 = 0x0D0A

private func decimalLength(_ value: Int) -> Int {
    var length = 1
    var rest = value / 10
    while rest > 0 {
        length += 1
        rest /= 10
    }
    return length
}

/// Writes a non-negative count and CRLF without building a String: this runs for every argument.
private func writeDecimalLine(_ value: Int, into buffer: inout ByteBuffer) {
    let length = decimalLength(value)
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length + 2) { raw in
        var rest = value
        for index in stride(from: length - 1, through: 0, by: -1) {
            raw[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        raw[length] = UInt8(ascii: "\r")
        raw[length + 1] = UInt8(ascii: "\n")
        return length + 2
    }
}
