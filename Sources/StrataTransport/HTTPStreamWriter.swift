import NIOCore
import NIOHTTP1
import StrataCore
import StrataHub

/// Sends a session's queued messages down an HTTP response body (HTTP-streaming, SSE), on the
/// connection's event loop: the same drain as `ChannelFrameWriter`'s for WebSocket, with the
/// stream's framing instead of WebSocket frames.
///
/// There is no close frame on an HTTP stream: a disconnect is written as a `disconnect` push
/// (in the session's codec), then the response ends and the connection closes. When the client
/// went away first, nothing more is written.
final class HTTPStreamWriter: Drainable {
    private let context: NIOLoopBound<ChannelHandlerContext>
    private let channel: any Channel
    private let queue: OutboundQueue
    private let batcher: DrainBatcher
    private let framing: HTTPStreamFraming
    /// The stream's last message: a disconnect push in the session's codec.
    private let disconnectMessage: @Sendable (Disconnect) -> [UInt8]
    private let ended: NIOLoopBoundBox<Bool>

    init(
        context: ChannelHandlerContext, queue: OutboundQueue, batcher: DrainBatcher, framing: HTTPStreamFraming,
        disconnectMessage: @escaping @Sendable (Disconnect) -> [UInt8]
    ) {
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.channel = context.channel
        self.queue = queue
        self.batcher = batcher
        self.framing = framing
        self.disconnectMessage = disconnectMessage
        self.ended = .makeBoxSendingValue(false, as: Bool.self, eventLoop: context.eventLoop)
    }

    func start() {
        queue.onReady { [self] in batcher.schedule(self) }
    }

    /// Writes raw body bytes ahead of the session's messages (SSE's opening empty line).
    func writeBody(_ bytes: [UInt8]) {
        let context = context.value
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
    }

    func drain() {
        var wrote = false
        let context = context.value
        defer { if wrote { context.flush() } }
        while true {
            if channel.isActive && !channel.isWritable {
                channel.eventLoop.scheduleTask(in: ChannelFrameWriter.retryDelay) { self.drain() }
                return
            }
            guard let event = queue.poll() else { return }
            switch event {
            case .frame(let messages):
                guard channel.isActive, !ended.value else { continue }
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(framing.encode(messages, allocator: channel.allocator)))), promise: nil)
                wrote = true
            case .close(let disconnect):
                wrote = false
                end(with: disconnect)
                return
            }
        }
    }

    /// The disconnect push (when the server ends the connection), the end of the response,
    /// then the connection's end.
    private func end(with disconnect: Disconnect?) {
        guard !ended.value else { return }
        ended.value = true
        let context = context.value
        guard channel.isActive else { return }
        if let disconnect {
            let push = framing.encode([disconnectMessage(disconnect)], allocator: channel.allocator)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(push))), promise: nil)
        }
        let channel = channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
