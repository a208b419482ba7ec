import NIOCore
import NIOWebSocket
import StrataCore
import StrataHub

/// Sends a session's queued messages by writing WebSocket frames straight into the connection's
/// NIO channel, on the channel's event loop.
///
/// Why: with thousands of subscribers, fan-out cost is per delivery. Through Hummingbird's async
/// writer each delivery woke the connection's writer task and hopped through the WebSocket
/// handler's actor before reaching the event loop; here the queue's wake-up schedules one drain
/// on the event loop, which writes every batch queued by then and flushes once.
///
/// Backpressure: while the socket is not writable (a slow reader), the drain stops and looks
/// again shortly; messages pile up in the bounded `OutboundQueue` until that client alone is
/// disconnected with 3008. The close goes back to the connection's task (`closed`), which performs
/// the close handshake through Hummingbird after every frame written here.
final class ChannelFrameWriter: Sendable {
    private let channel: any Channel
    private let queue: OutboundQueue
    private let closeEvents: AsyncStream<Disconnect?>
    private let closeContinuation: AsyncStream<Disconnect?>.Continuation
    /// How soon a drain blocked by a full socket looks again.
    static let retryDelay = TimeAmount.milliseconds(5)

    init(channel: any Channel, queue: OutboundQueue) {
        self.channel = channel
        self.queue = queue
        (closeEvents, closeContinuation) = AsyncStream.makeStream(of: Disconnect?.self, bufferingPolicy: .bufferingNewest(1))
    }

    func start() {
        queue.onReady { [self] in
            channel.eventLoop.execute { self.drain() }
        }
    }

    /// The disconnect the queue ended with (nil: just close), once every frame before it is written.
    func closed() async -> Disconnect? {
        for await disconnect in closeEvents { return disconnect }
        return nil
    }

    /// Runs on the event loop until the queue is empty, the socket is full, or the queue closes.
    private func drain() {
        var wrote = false
        defer { if wrote { channel.flush() } }
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
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: Self.joined(messages)), promise: nil)
                wrote = true
            case .close(let disconnect):
                if wrote {
                    channel.flush()
                    wrote = false
                }
                closeContinuation.yield(disconnect)
                closeContinuation.finish()
                return
            }
        }
    }

    /// The JSON protocol's batching: messages joined by newlines in one text frame.
    static func joined(_ messages: [[UInt8]]) -> ByteBuffer {
        var size = messages.count - 1
        for m in messages { size += m.count }
        var buffer = ByteBufferAllocator().buffer(capacity: max(0, size))
        for (i, m) in messages.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\n")) }
            buffer.writeBytes(m)
        }
        return buffer
    }
}
