import NIOCore
import NIOWebSocket
import StrataCompression
import StrataCore
import StrataHub
import StrataProtocol

/// Sends a session's queued messages by writing WebSocket frames straight into the connection's
/// NIO channel, on the channel's event loop.
///
/// Why: with thousands of subscribers, fan-out cost is per delivery. Through Hummingbird's async
/// writer each delivery woke the connection's writer task and hopped through the WebSocket
/// handler's actor before reaching the event loop; here the queue's wake-up schedules a drain on
/// the event loop (batched with the other connections there, `DrainBatcher`), which writes every
/// batch queued by then and flushes once.
///
/// Frames are encoded here (a server frame is a 2–10 byte header and the unmasked payload) and
/// written from the WebSocket encoder's place in the pipeline towards the socket, so each
/// delivery is one buffer and skips the handlers behind the encoder (profiling showed the
/// pipeline walk as the largest share of fan-out CPU). Without that handler, frames take the
/// ordinary path from the pipeline's tail.
///
/// Backpressure: while the socket is not writable (a slow reader), the drain stops and looks
/// again shortly; messages pile up in the bounded `OutboundQueue` until that client alone is
/// disconnected with 3008. A client whose socket takes nothing for `writeTimeout`
/// (`websocket.write_timeout`) is dropped sooner, as Centrifugo's write deadline drops it: the
/// socket closes (no close frame could reach it anyway), and its session ends.
///
/// Closing (RFC 6455 §7): the queue's close, after every frame before it, becomes a close frame
/// with the disconnect's code and reason; the connection's handler closes the socket when the
/// client answers with its own close frame, and the writer closes it anyway after `closeTimeout`.
final class ChannelFrameWriter: Drainable, DirectWriter {
    private let channel: any Channel
    private let queue: OutboundQueue
    private let batcher: DrainBatcher
    private let batching: WebSocketBatching
    private let farewell: Farewell
    /// permessage-deflate, when the connection negotiated it.
    private let deflate: MessageDeflate?
    /// How long the socket may stay full before the connection is closed; nil = no limit.
    private let writeTimeout: TimeAmount?
    /// What the writer keeps on the event loop. One box: each is an allocation per connection.
    private let onLoop: NIOLoopBoundBox<LoopState>
    /// Open until a close frame is sent.
    private let gate: DirectWriteGate
    /// How soon a drain blocked by a full socket looks again.
    static let retryDelay = TimeAmount.milliseconds(5)
    /// How long a client has to answer our close frame before the socket is closed anyway.
    static let closeTimeout = TimeAmount.seconds(5)

    struct LoopState {
        /// The pipeline context of `WebSocketFrameEncoder`, found on the first write.
        var encoder: ChannelHandlerContext?
        var lookedUp = false
        /// A close frame went out: nothing more may be written (RFC 6455 §5.5.1).
        var closeSent = false
        /// When a drain first found the socket full; nil while it takes data.
        var stalledSince: NIODeadline?
    }

    /// How the server ends a connection: a close frame with the disconnect's code and reason,
    /// after a `disconnect` push for one-way clients (uni_websocket), which may read only messages.
    struct Farewell: Sendable {
        var push: (@Sendable (Disconnect) -> [UInt8])?
        /// `uni_websocket.disable_closing_handshake` turns the close frame off (the socket just closes).
        var closeFrame = true

        static let closeFrame = Farewell(push: nil)
    }

    init(
        channel: any Channel, queue: OutboundQueue, batcher: DrainBatcher, batching: WebSocketBatching, farewell: Farewell = .closeFrame,
        deflate: MessageDeflate? = nil, writeTimeout: TimeAmount? = nil
    ) {
        self.writeTimeout = writeTimeout
        self.channel = channel
        self.queue = queue
        self.batcher = batcher
        self.batching = batching
        self.farewell = farewell
        self.deflate = deflate
        // Used only on the event loop; made with the factory that works from anywhere.
        self.onLoop = .makeBoxSendingValue(LoopState(), as: LoopState.self, eventLoop: channel.eventLoop)
        self.gate = DirectWriteGate(channel: channel, open: true)
    }

    func start() {
        queue.onReady(direct: self) { [self] in batcher.schedule(self) }
    }

    /// From the connection's handler (`DirectWriteGate`).
    func writabilityChanged(_ isWritable: Bool) {
        gate.writabilityChanged(isWritable)
    }

    /// A stalled socket needs no check of its own: its messages are queued (the queue is not
    /// idle) until a drain has sent them.
    func claimDirectWrite() -> Bool {
        gate.allows(batcher)
    }

    /// Asked when the writer starts, after the upgrade put the encoder in the pipeline: the
    /// writes' own lookup (`encoderContext`) is made here, once.
    var hotMemory: [(address: UInt, bytes: UInt)] {
        DirectWriteMemory.regions(writer: self, channel: channel, context: encoderContext(), extra: [onLoop])
    }

    /// Right after the claim, on the same thread.
    func writeClaimed(_ message: [UInt8]) {
        write([message])
        flush()
    }

    /// Whether our close frame has been written (event loop only).
    var closeSent: Bool { onLoop.value.closeSent }

    /// Runs on the event loop until the queue is empty, the socket is full, or the queue closes.
    func drain() {
        var wrote = false
        defer { if wrote { flush() } }
        // The socket takes data again: a stall, if there was one, is over (once per drain, not per message).
        if onLoop.value.stalledSince != nil && channel.isWritable { onLoop.value.stalledSince = nil }
        while true {
            if channel.isActive && !channel.isWritable {
                if stalledTooLong() {
                    channel.close(promise: nil)
                    return
                }
                channel.eventLoop.scheduleTask(in: Self.retryDelay) { self.drain() }
                return
            }
            guard let event = queue.poll() else { return }
            switch event {
            case .frame(let messages):
                // A dead channel drops what it is given: keep polling until the session's close.
                guard channel.isActive, !onLoop.value.closeSent else { continue }
                write(messages)
                wrote = true
            case .close(let disconnect):
                wrote = false
                if let disconnect, let push = farewell.push, channel.isActive, !onLoop.value.closeSent {
                    write([push(disconnect)])
                }
                if let disconnect, farewell.closeFrame {
                    sendClose(code: disconnect.code, reason: disconnect.reason)
                } else {
                    flush()
                    channel.close(promise: nil)
                }
                return
            }
        }
    }

    /// A configured write timeout: none when not positive.
    static func timeout(millis: Int64) -> TimeAmount? { millis > 0 ? .milliseconds(millis) : nil }

    /// Whether the socket has been full for longer than `writeTimeout` (starts the clock when it
    /// first finds it full).
    private func stalledTooLong() -> Bool {
        guard let writeTimeout else { return false }
        let now = NIODeadline.now()
        guard let since = onLoop.value.stalledSince else {
            onLoop.value.stalledSince = now
            return false
        }
        return now - since >= writeTimeout
    }

    /// Writes a close frame (once) and flushes; the socket closes when the client answers or
    /// after `closeTimeout`. A nil code sends an empty close frame (the client's own had none).
    func sendClose(code: UInt16?, reason: String = "") {
        guard channel.isActive, !onLoop.value.closeSent else { return }
        onLoop.value.closeSent = true
        gate.setOpen(false)
        writeFrame(WebSocketFrame(fin: true, opcode: .connectionClose, data: Self.closePayload(code: code, reason: reason)))
        flush()
        let deadline = channel.eventLoop.scheduleTask(in: Self.closeTimeout) { [channel] in channel.close(promise: nil) }
        // The timer holds the channel: cancelled at the close, it lets the channel go at once.
        channel.closeFuture.whenComplete { _ in deadline.cancel() }
    }

    /// A ping frame (uni_websocket's keepalive).
    func sendPing() {
        guard channel.isActive, !onLoop.value.closeSent else { return }
        writeFrame(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()))
        flush()
    }

    /// A pong for the client's ping, with the ping's application data (RFC 6455 §5.5.3).
    func sendPong(_ data: ByteBuffer) {
        guard channel.isActive, !onLoop.value.closeSent else { return }
        writeFrame(WebSocketFrame(fin: true, opcode: .pong, data: data))
        flush()
    }

    /// A close frame's payload: the code (network order) and the reason, cut to the 123 bytes
    /// a control frame leaves for it (at a character boundary).
    static func closePayload(code: UInt16?, reason: String) -> ByteBuffer {
        guard let code else { return ByteBuffer() }
        var buffer = ByteBufferAllocator().buffer(capacity: 2 + reason.utf8.count)
        buffer.writeInteger(code)
        var room = 123
        for scalar in reason.unicodeScalars {
            room -= UTF8.width(scalar)
            guard room >= 0 else { break }
            buffer.writeString(String(scalar))
        }
        return buffer
    }

    /// From the encoder's position too: only the handlers towards the socket need the flush.
    private func flush() {
        if let context = onLoop.value.encoder {
            context.flush()
        } else {
            channel.flush()
        }
    }

    private func write(_ messages: [[UInt8]]) {
        if batching == .messagePerTextFrame && messages.count > 1 {
            for m in messages { write([m]) }
            return
        }
        let frame: ByteBuffer
        if let deflate, Self.payloadSize(messages, batching) > deflate.options.minSize {
            // Compressed on its own (no context takeover), RSV1 set (RFC 7692 §6).
            let compressed = Self.joined(messages, batching).withUnsafeReadableBytes { deflate.streams.deflater.compress($0) }
            frame = Self.frame(firstByte: 0xC0 | UInt8(webSocketOpcode: batching.opcode), payload: compressed)
        } else if messages.count == 1 {
            // A publication's frame is the same for every subscriber on this loop: made once.
            let batching = batching
            frame = batcher.framedMessages.value.framed(messages[0], as: .webSocket(batching)) { Self.dataFrame([$0], batching) }
        } else {
            frame = Self.dataFrame(messages, batching)
        }
        if let context = encoderContext() {
            context.write(NIOAny(frame), promise: nil)
        } else {
            // No encoder in the pipeline (tests): the frame's bytes straight to the socket.
            channel.write(frame, promise: nil)
        }
    }

    /// A frame through NIO's encoder (control frames: rare, not worth encoding here).
    private func writeFrame(_ frame: WebSocketFrame) {
        channel.write(frame, promise: nil)
    }

    private func encoderContext() -> ChannelHandlerContext? {
        if !onLoop.value.lookedUp {
            onLoop.value.lookedUp = true
            onLoop.value.encoder = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        }
        return onLoop.value.encoder
    }

    /// The payload of one message carrying `messages` (transports.md §2.1).
    static func payloadSize(_ messages: [[UInt8]], _ batching: WebSocketBatching) -> Int {
        switch batching {
        case .newlineJoinedText, .messagePerTextFrame:
            var size = max(0, messages.count - 1)
            for m in messages { size += m.count }
            return size
        case .varintDelimitedBinary:
            return VarintFraming.framedSize(messages)
        }
    }

    static func joined(_ messages: [[UInt8]], _ batching: WebSocketBatching) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: payloadSize(messages, batching))
        append(messages, batching, to: &buffer)
        return buffer
    }

    private static func append(_ messages: [[UInt8]], _ batching: WebSocketBatching, to buffer: inout ByteBuffer) {
        switch batching {
        case .newlineJoinedText, .messagePerTextFrame:
            for (i, m) in messages.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: "\n")) }
                buffer.writeBytes(m)
            }
        case .varintDelimitedBinary:
            for m in messages {
                VarintFraming.writeLength(m.count) { buffer.writeInteger($0) }
                buffer.writeBytes(m)
            }
        }
    }

    /// One unmasked, final data frame (RFC 6455 §5.2): FIN and the opcode, the length in 7 bits,
    /// or 126 and 16 bits, or 127 and 64 bits (network order), then the payload.
    static func dataFrame(_ messages: [[UInt8]], _ batching: WebSocketBatching) -> ByteBuffer {
        let size = payloadSize(messages, batching)
        var buffer = ByteBufferAllocator().buffer(capacity: size + 10)
        writeHeader(firstByte: 0x80 | UInt8(webSocketOpcode: batching.opcode), size: size, to: &buffer)
        append(messages, batching, to: &buffer)
        return buffer
    }

    /// A frame of a ready payload (a compressed one: `firstByte` has RSV1).
    static func frame(firstByte: UInt8, payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: payload.count + 10)
        writeHeader(firstByte: firstByte, size: payload.count, to: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    private static func writeHeader(firstByte: UInt8, size: Int, to buffer: inout ByteBuffer) {
        buffer.writeInteger(firstByte)
        if size < 126 {
            buffer.writeInteger(UInt8(size))
        } else if size <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(size))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(size))
        }
    }
}

/// How a batch of a session's messages becomes one WebSocket message (transports.md §2.1).
enum WebSocketBatching: Sendable {
    /// The JSON protocol: a text message, the messages joined by newlines (none at the end).
    case newlineJoinedText
    /// The Protobuf protocol: a binary message, each message preceded by its varint length.
    case varintDelimitedBinary
    /// uni_websocket: every message its own text message (unless `join_push_messages`).
    case messagePerTextFrame

    var opcode: WebSocketOpcode {
        switch self {
        case .newlineJoinedText, .messagePerTextFrame: .text
        case .varintDelimitedBinary: .binary
        }
    }
}
