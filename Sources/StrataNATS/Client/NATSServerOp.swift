import NIOCore

/// What a NATS server sends (its text protocol, one operation per line; a MSG's payload follows
/// its line): https://docs.nats.io/reference/reference-protocols/nats-protocol
enum NATSServerOp: Sendable, Equatable {
    case info(String)
    case msg(subject: String, sid: Int, payload: ByteBuffer)
    case ping
    case pong
    case ok
    case err(String)
}

/// Cuts the byte stream into `NATSServerOp`s. A MSG is handed on only once its whole payload has
/// arrived; a line longer than `maxLine` without an end, or a payload larger than
/// `maxPayload`, is a protocol error (the connection is closed, nothing waits forever).
struct NATSDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = NATSServerOp

    let maxLine = 64 * 1024
    let maxPayload = 64 * 1024 * 1024

    mutating func decode(buffer: inout ByteBuffer) throws -> NATSServerOp? {
        let view = buffer.readableBytesView
        guard let end = lineEnd(view) else {
            if view.count > maxLine { throw NATSError("a protocol line longer than \(maxLine) bytes") }
            return nil
        }
        let lineLength = end - view.startIndex
        let line = String(decoding: view[view.startIndex..<end], as: UTF8.self)
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first?.uppercased() else {
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return try decode(buffer: &buffer)
        }
        switch verb {
        case "MSG":
            // MSG <subject> <sid> [reply-to] <#bytes>
            guard (4...5).contains(words.count), let sid = Int(words[2]), let size = Int(words[words.count - 1]), size >= 0 else {
                throw NATSError("malformed MSG line: \(line.prefix(200))")
            }
            guard size <= maxPayload else { throw NATSError("a message of \(size) bytes") }
            guard view.count >= lineLength + 2 + size + 2 else { return nil }
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            guard let payload = buffer.readSlice(length: size) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .msg(subject: String(words[1]), sid: sid, payload: payload)
        case "PING":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .ping
        case "PONG":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .pong
        case "+OK":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .ok
        case "-ERR":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            let text = line.dropFirst(4).trimmingCharacters(in: " '")
            return .err(String(text))
        case "INFO":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .info(String(line.dropFirst(4).drop { $0 == " " }))
        default:
            throw NATSError("unknown protocol operation: \(line.prefix(200))")
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NATSServerOp? {
        try decode(buffer: &buffer)
    }

    /// The index of the `\r` of the first `\r\n`.
    private func lineEnd(_ view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex
        while let cr = view[index...].firstIndex(of: UInt8(ascii: "\r")) {
            let next = view.index(after: cr)
            guard next < view.endIndex else { return nil }
            if view[next] == UInt8(ascii: "\n") { return cr }
            index = next
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return s
    }
}
