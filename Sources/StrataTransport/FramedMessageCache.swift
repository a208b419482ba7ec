import NIOCore

/// The last few single messages framed on one event loop, with their framed bytes, so a
/// publication fanned out to a loop's subscribers is framed once, not once per subscriber.
///
/// Why: in a paced fan-out every delivery is its own batch of one message, and each writer
/// allocated a buffer and copied the same bytes into the same framing (an HTTP chunk with its
/// SSE lines, a WebSocket frame header) before the write; NIO writes a shared `ByteBuffer`
/// without copying it. Messages are matched by their storage: a publication's frame is one
/// array shared by every subscriber of a codec (`EncodedPublication`), and an entry keeps its
/// array alive, so the same address and length are the same bytes. A reply (a message no one
/// else gets) misses and costs a few comparisons.
///
/// Event loop only (held in a `NIOLoopBoundBox` by the loop's `DrainBatcher`).
final class FramedMessageCache {
    /// How a message is framed: the writers' own framings.
    enum Format: Equatable {
        case httpStream(HTTPStreamFraming, chunked: Bool)
        case webSocket(WebSocketBatching)
    }

    private struct Entry {
        var message: [UInt8]
        var format: Format
        var framed: ByteBuffer
    }

    /// A few entries: subscribers of both codecs, or a loop writing two channels' publications
    /// in turn, still hit.
    static let capacity = 4
    /// Larger messages are framed per write, not kept: the cache holds at most a few of these.
    static let largestKept = 64 * 1024

    private var entries: [Entry] = []
    private var next = 0

    /// `message` framed as `format`: the kept buffer when this same message was framed so, else
    /// `frame(message)`, kept for the writers after this one.
    func framed(_ message: [UInt8], as format: Format, frame: ([UInt8]) -> ByteBuffer) -> ByteBuffer {
        guard !message.isEmpty, message.count <= Self.largestKept else { return frame(message) }
        let address = message.withUnsafeBufferPointer { $0.baseAddress }
        for entry in entries where entry.format == format && entry.message.count == message.count {
            if entry.message.withUnsafeBufferPointer({ $0.baseAddress }) == address { return entry.framed }
        }
        let framed = frame(message)
        let entry = Entry(message: message, format: format, framed: framed)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[next] = entry
            next = (next + 1) % Self.capacity
        }
        return framed
    }
}
