import NIOCore
import StrataProtocol

/// How an HTTP stream's body carries a batch of a session's messages (transports.md §2.1).
enum HTTPStreamFraming: Sendable {
    /// HTTP-streaming with JSON (and the one-way HTTP stream): every message ends with a newline.
    case newlineTerminated
    /// HTTP-streaming with Protobuf: every message preceded by its varint length, as on WebSocket.
    case varintDelimited
    /// SSE: every message is one event, `data: <message>` and an empty line.
    case serverSentEvents
    /// One-way SSE: every message holds its events' lines already (`UnidirectionalSSECodec`);
    /// an empty line ends it.
    case serverSentEventLines
    /// The bytes as they are (SSE's opening empty line).
    case raw
    /// gRPC (uni_grpc): every message after a 5-byte prefix, `0` (not compressed) and its length
    /// as a 32-bit big-endian integer.
    case grpcLengthPrefixed

    static let ssePrefix: [UInt8] = Array("data: ".utf8)

    /// One buffer for the batch, written with one write and flushed: a client may read a
    /// Protobuf message only when it has all of it. `chunked`: the buffer is a whole HTTP/1.1
    /// chunk (size line, data, CRLF), ready for the socket.
    func encode(_ messages: [[UInt8]], allocator: ByteBufferAllocator, chunked: Bool = false) -> ByteBuffer {
        var size = 0
        for m in messages { size += m.count }
        switch self {
        case .newlineTerminated: size += messages.count
        case .varintDelimited: size = VarintFraming.framedSize(messages)
        case .serverSentEvents: size += messages.count * (Self.ssePrefix.count + 2)
        case .serverSentEventLines: size += messages.count * 2
        case .raw: break
        case .grpcLengthPrefixed: size += messages.count * 5
        }
        var buffer = allocator.buffer(capacity: size + (chunked ? 20 : 0))
        if chunked { Self.writeChunkSize(size, to: &buffer) }
        for m in messages {
            switch self {
            case .newlineTerminated:
                buffer.writeBytes(m)
                buffer.writeInteger(UInt8(ascii: "\n"))
            case .varintDelimited:
                VarintFraming.writeLength(m.count) { buffer.writeInteger($0) }
                buffer.writeBytes(m)
            case .serverSentEvents:
                buffer.writeBytes(Self.ssePrefix)
                buffer.writeBytes(m)
                buffer.writeBytes([UInt8(ascii: "\n"), UInt8(ascii: "\n")])
            case .serverSentEventLines:
                buffer.writeBytes(m)
                buffer.writeBytes([UInt8(ascii: "\n"), UInt8(ascii: "\n")])
            case .raw:
                buffer.writeBytes(m)
            case .grpcLengthPrefixed:
                buffer.writeInteger(UInt8(0))
                buffer.writeInteger(UInt32(m.count))
                buffer.writeBytes(m)
            }
        }
        if chunked { buffer.writeBytes([0x0D, 0x0A]) }
        return buffer
    }

    /// A chunk's size line (RFC 9112 §7.1): the size in hex, CRLF.
    static func writeChunkSize(_ size: Int, to buffer: inout ByteBuffer) {
        let digits = Array("0123456789abcdef".utf8)
        var shift = 0
        while (size >> shift) >= 16 { shift += 4 }
        while shift >= 0 {
            buffer.writeInteger(digits[(size >> shift) & 0xF])
            shift -= 4
        }
        buffer.writeBytes([0x0D, 0x0A])
    }
}
