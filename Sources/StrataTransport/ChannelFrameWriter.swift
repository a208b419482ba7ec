import NIOCore
import NIOWebSocket
import StrataCore
import StrataHub

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
/// disconnected with 3008. The close goes back to the connection's task (`closed`), which performs
/// the close handshake through Hummingbird after every frame written here.
final class ChannelFrameWriter: Drainable {
    private let channel: any Channel
    private let queue: OutboundQueue
    private let batcher: DrainBatcher
    /// The pipeline context of `WebSocketFrameEncoder`, found on the first drain (event loop only).
    private let encoderContext: NIOLoopBoundBox<ChannelHandlerContext?>
    private let lookedUp: NIOLoopBoundBox<Bool>
    private let closeEvents: AsyncStream<Disconnect?>
    private let closeContinuation: AsyncStream<Disconnect?>.Continuation
    /// How soon a drain blocked by a full socket looks again.
    static let retryDelay = TimeAmount.milliseconds(5)

    init(channel: any Channel, queue: OutboundQueue, batchers: DrainBatchers) {
        self.channel = channel
        self.queue = queue
        self.batcher = batchers.batcher(for: channel.eventLoop)
        // Used only on the event loop; made with the factories that work from anywhere.
        self.encoderContext = .makeEmptyBox(valueType: ChannelHandlerContext.self, eventLoop: channel.eventLoop)
        self.lookedUp = .makeBoxSendingValue(false, as: Bool.self, eventLoop: channel.eventLoop)
        (closeEvents, closeContinuation) = AsyncStream.makeStream(of: Disconnect?.self, bufferingPolicy: .bufferingNewest(1))
    }

    func start() {
        queue.onReady { [self] in batcher.schedule(self) }
    }

    /// The disconnect the queue ended with (nil: just close), once every frame before it is written.
    func closed() async -> Disconnect? {
        for await disconnect in closeEvents { return disconnect }
        return nil
    }

    /// Runs on the event loop until the queue is empty, the socket is full, or the queue closes.
    func drain() {
        var wrote = false
        defer { if wrote { flush() } }
        while true {
            if channel.isActive && !channel.isWritable {
                channel.eventLoop.scheduleTask(in: Self.retryDelay) { self.drain() }
                return
            }
            guard let event = queue.poll() else { return }
            switch event {
            case .frame(let messages):
                // A dead channel drops what it is given: keep polling until the session's close.
                guard channel.isActive else { continue }
                write(messages)
                wrote = true
            case .close(let disconnect):
                if wrote {
                    flush()
                    wrote = false
                }
                closeContinuation.yield(disconnect)
                closeContinuation.finish()
                return
            }
        }
    }

    /// From the encoder's position too: only the handlers towards the socket need the flush.
    private func flush() {
        if let context = encoderContext.value {
            context.flush()
        } else {
            channel.flush()
        }
    }

    private func write(_ messages: [[UInt8]]) {
        if !lookedUp.value {
            lookedUp.value = true
            encoderContext.value = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        }
        if let context = encoderContext.value {
            context.write(NIOAny(Self.textFrame(messages)), promise: nil)
        } else {
            channel.write(WebSocketFrame(fin: true, opcode: .text, data: Self.joined(messages)), promise: nil)
        }
    }

    /// The JSON protocol's batching: messages joined by newlines.
    static func payloadSize(_ messages: [[UInt8]]) -> Int {
        var size = max(0, messages.count - 1)
        for m in messages { size += m.count }
        return size
    }

    static func joined(_ messages: [[UInt8]]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: payloadSize(messages))
        append(messages, to: &buffer)
        return buffer
    }

    private static func append(_ messages: [[UInt8]], to buffer: inout ByteBuffer) {
        for (i, m) in messages.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\n")) }
            buffer.writeBytes(m)
        }
    }

    /// One unmasked, final text frame (RFC 6455 §5.2): 0x81, the length in 7 bits, or 126 and
    /// 16 bits, or 127 and 64 bits (network order), then the payload.
    static func textFrame(_ messages: [[UInt8]]) -> ByteBuffer {
        let size = payloadSize(messages)
        var buffer = ByteBufferAllocator().buffer(capacity: size + 10)
        buffer.writeInteger(UInt8(0x81))
        if size < 126 {
            buffer.writeInteger(UInt8(size))
        } else if size <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(size))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(size))
        }
        append(messages, to: &buffer)
        return buffer
    }
}
