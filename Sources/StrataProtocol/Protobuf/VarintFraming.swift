/// The Protobuf protocol's framing of several messages in one transport message: each message is
/// preceded by its length as an unsigned LEB128 varint (7 bits a byte, least significant group
/// first, high bit set while more bytes follow). A zero-length message (a ping, a pong) is the
/// single byte `00`.
package enum VarintFraming {
    /// Why a frame could not be split into messages.
    package enum FrameError: Error, Hashable, Sendable {
        /// The frame ends inside a length prefix.
        case truncatedLength
        /// A length prefix longer than 10 bytes, or a length no frame can hold.
        case oversizedLength
        /// Fewer bytes follow a length prefix than it announces.
        case truncatedMessage(length: Int, left: Int)
    }

    /// How many bytes the varint of `value` takes.
    package static func size(of value: Int) -> Int {
        var v = UInt64(value)
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    /// The bytes of a length prefix, in order, to whatever buffer `write` appends to.
    @inlinable
    package static func writeLength(_ length: Int, _ write: (UInt8) -> Void) {
        var v = UInt64(length)
        while v >= 0x80 {
            write(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        write(UInt8(v))
    }

    package static func appendLength(_ length: Int, to out: inout [UInt8]) {
        writeLength(length) { out.append($0) }
    }

    /// The messages of one frame, back to back with their prefixes.
    package static func join(_ messages: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(framedSize(messages))
        for m in messages {
            appendLength(m.count, to: &out)
            out.append(contentsOf: m)
        }
        return out
    }

    /// The size of `join(messages)`.
    package static func framedSize(_ messages: [[UInt8]]) -> Int {
        var total = 0
        for m in messages { total += size(of: m.count) + m.count }
        return total
    }

    /// The byte range of the message that starts at `offset` (its prefix included in the
    /// advance): nil at the end of the frame.
    package static func next(in frame: [UInt8], at offset: inout Int) throws(FrameError) -> Range<Int>? {
        guard offset < frame.count else { return nil }
        var length: UInt64 = 0
        var shift: UInt64 = 0
        var i = offset
        while true {
            guard i < frame.count else { throw .truncatedLength }
            guard shift < 64 else { throw .oversizedLength }
            let byte = frame[i]
            i += 1
            length |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        let left = frame.count - i
        guard length <= UInt64(Int.max) else { throw .oversizedLength }
        guard Int(length) <= left else { throw .truncatedMessage(length: Int(length), left: left) }
        offset = i + Int(length)
        return i..<offset
    }
}
