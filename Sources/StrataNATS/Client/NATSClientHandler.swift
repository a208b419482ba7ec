import Logging
import NIOCore

/// What `NATSConnection` writes: protocol bytes as they are, or a PING whose PONG completes
/// the promise (the server answers in order, so a PONG proves everything before it was read).
enum NATSRequest: Sendable {
    case bytes(ByteBuffer)
    case ping(EventLoopPromise<Void>)
}

/// The connection's handler: answers the server's PINGs, matches PONGs to our PINGs in order
/// (each due within `pongTimeout`; a late one closes the connection), hands messages to
/// `onMessage` on the event loop, and PINGs on its own every `probeInterval` that nothing is
/// waiting, so a server that stops answering is noticed even when nothing is published.
final class NATSClientHandler: ChannelDuplexHandler {
    typealias InboundIn = NATSServerOp
    typealias OutboundIn = NATSRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let promise: EventLoopPromise<Void>
        let deadline: NIODeadline
    }

    private let onMessage: @Sendable (String, Int, ByteBuffer) -> Void
    /// Completed with the server's first INFO (its JSON), which says whether it wants TLS.
    private var info: EventLoopPromise<String>?
    private let pongTimeout: TimeAmount
    private let probeInterval: TimeAmount
    private let logger: Logger
    private var waiting = CircularBuffer<Waiting>()
    private var timer: Scheduled<Void>?
    private var probe: RepeatedTask?
    /// The last -ERR, which explains a close that follows it (an authorization violation).
    private var lastServerError: String?
    private var failure: NATSError?

    init(
        pongTimeout: TimeAmount, probeInterval: TimeAmount, info: EventLoopPromise<String>, logger: Logger,
        onMessage: @escaping @Sendable (String, Int, ByteBuffer) -> Void
    ) {
        self.info = info
        self.pongTimeout = pongTimeout
        self.probeInterval = probeInterval
        self.logger = logger
        self.onMessage = onMessage
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard probeInterval > .zero else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        probe = context.eventLoop.scheduleRepeatedTask(initialDelay: probeInterval, delay: probeInterval) { _ in
            let (handler, context) = bound.value
            guard handler.failure == nil, handler.waiting.isEmpty else { return }
            handler.sendPing(context: context, promise: context.eventLoop.makePromise())
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            if case .ping(let pong) = request { pong.fail(failure) }
            promise?.fail(failure)
            return
        }
        switch request {
        case .bytes(let bytes):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .ping(let pong):
            sendPing(context: context, promise: pong, written: promise)
        }
    }

    private func sendPing(context: ChannelHandlerContext, promise: EventLoopPromise<Void>, written: EventLoopPromise<Void>? = nil) {
        let deadline = NIODeadline.now() + pongTimeout
        waiting.append(Waiting(promise: promise, deadline: deadline))
        if timer == nil { arm(context: context, at: deadline) }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "PING\r\n")), promise: written)
    }

    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.timer = nil
            guard let oldest = handler.waiting.first else { return }
            if oldest.deadline <= .now() {
                handler.fail(NATSError("no PONG within \(handler.pongTimeout.nanoseconds / 1_000_000) ms"), context: context)
            } else {
                handler.arm(context: context, at: oldest.deadline)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .msg(let subject, let sid, let payload):
            onMessage(subject, sid, payload)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "PONG\r\n")), promise: nil)
        case .pong:
            waiting.popFirst()?.promise.succeed(())
        case .err(let text):
            lastServerError = text
            logger.warning("nats server error", metadata: ["error": "\(text)"])
        case .info(let json):
            info?.succeed(json)
            info = nil
        case .ok:
            break
        }
    }

    private func fail(_ error: NATSError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: NATSError) {
        let error = failure ?? error
        failure = error
        timer?.cancel()
        timer = nil
        probe?.cancel()
        probe = nil
        while let head = waiting.popFirst() { head.promise.fail(error) }
        info?.fail(error)
        info = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("nats connection error", metadata: ["error": "\(error)"])
        fail(error as? NATSError ?? NATSError("\(error)"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(NATSError(lastServerError.map { "the server closed the connection: \($0)" } ?? "connection closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(NATSError("connection closed"))
    }
}
