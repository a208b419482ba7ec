import Logging
import NIOCore
import NIOWebSocket
import StrataCompression
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// One WebSocket connection after the upgrade, as a channel handler behind NIO's frame decoder:
/// it assembles messages from frames for the session (through a `CommandInbox`), answers control
/// frames, and ties the socket's end to the session's. Everything here runs on the channel's
/// event loop; the session's replies and deliveries go out through `ChannelFrameWriter`.
///
/// What an idle connection holds: this handler, the writer, the inbox and the session; a message
/// being assembled lives only until its last frame.
final class WebSocketConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    private let session: ClientSession
    private let writer: ChannelFrameWriter
    private let inbox = CommandInbox()
    private let executor: EventLoopTaskExecutor
    private let messageLimit: Int
    private let logger: Logger
    private let oneWay: OneWay?
    /// permessage-deflate, when negotiated: messages whose first frame has RSV1 are inflated.
    private let deflate: MessageDeflate?
    private var compressedMessage = false
    /// One-way: the connect request has been handed over; later messages are dropped.
    private var connectReceived = false
    private var pingTask: RepeatedTask?
    private var pongPending = false
    private var context: ChannelHandlerContext?
    /// The message being assembled from a first frame and its continuations.
    private var message: [UInt8] = []
    private var inMessage = false

    /// uni_websocket (transports.md §5.2): the client sends one connect request (in the URL or
    /// as its first message) and nothing else is read; the server pings with ping frames besides
    /// the session's `{}` pings, and a client that stops answering them is dropped.
    struct OneWay {
        /// The connect request from the URL's `cf_connect`, if it had one.
        var connectRequest: [UInt8]?
        var pingInterval: TimeAmount
        var pongTimeout: TimeAmount
    }

    init(
        session: ClientSession, writer: ChannelFrameWriter, executor: EventLoopTaskExecutor, messageLimit: Int, logger: Logger,
        oneWay: OneWay? = nil, deflate: MessageDeflate? = nil
    ) {
        self.deflate = deflate
        self.session = session
        self.writer = writer
        self.executor = executor
        self.messageLimit = messageLimit
        self.logger = logger
        self.oneWay = oneWay
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writer.start()
        session.startTimers()
        guard let oneWay else { return }
        if let request = oneWay.connectRequest { deliver(request) }
        startPingFrames(oneWay, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        pingTask?.cancel()
        pingTask = nil
    }

    /// Ping frames every interval; a ping still unanswered `pongTimeout` after it ends the
    /// connection (Centrifugo's read deadline on uni_websocket).
    private func startPingFrames(_ oneWay: OneWay, context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: oneWay.pingInterval, delay: oneWay.pingInterval) { task in
            let me = handler.value
            guard me.context != nil else { return task.cancel() }
            me.pongPending = true
            me.writer.sendPing()
            me.context?.eventLoop.scheduleTask(in: oneWay.pongTimeout) {
                let me = handler.value
                if me.pongPending { me.context?.close(promise: nil) }
            }
        }
    }

    // MARK: Frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // RFC 6455 §5.1: a client masks every frame; an unmasked one is a protocol error.
        guard frame.maskKey != nil else { return fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            // A binary message holding JSON commands is processed too, as Centrifugo does: the
            // JSON protocol does not depend on the frame type.
            guard !inMessage else { return fail(.protocolError) }
            // RSV1 marks a compressed message, and only where permessage-deflate was agreed.
            guard !frame.rsv1 || deflate != nil else { return fail(.protocolError) }
            inMessage = true
            compressedMessage = frame.rsv1
            append(frame)
        case .continuation:
            guard inMessage else { return fail(.protocolError) }
            append(frame)
        case .connectionClose:
            closeReceived(frame)
        case .ping:
            writer.sendPong(frame.unmaskedData)
        case .pong:
            pongPending = false
        default:
            fail(.protocolError)
        }
    }

    /// Adds a frame's payload (unmasked) to the message; the last frame hands it to the session.
    /// Raw bytes, not validated UTF-8: the protocol layer answers invalid text with 3501.
    private func append(_ frame: WebSocketFrame) {
        guard message.count + frame.length <= messageLimit else {
            // RFC 6455 1009 "message too big", as Centrifugo's reader does.
            return fail(.messageTooLarge)
        }
        let start = message.count
        message.append(contentsOf: frame.data.readableBytesView)
        if let key = frame.maskKey {
            message.withUnsafeMutableBufferPointer { bytes in
                for i in start..<bytes.count { bytes[i] ^= key[(i - start) & 3] }
            }
        }
        guard frame.fin else { return }
        inMessage = false
        var complete = message
        message = []
        if compressedMessage, let deflate {
            do {
                complete = try deflate.streams.inflater.decompress(complete, limit: deflate.options.inflatedLimit)
            } catch {
                switch error {
                case .tooLarge: return fail(.messageTooLarge, reason: "message too big after decompression")
                case .corrupt: return fail(.dataInconsistentWithMessage)
                }
            }
        }
        deliver(complete)
    }

    private func deliver(_ message: [UInt8]) {
        if oneWay != nil {
            // A one-way client's only message is its connect request; the rest is not read.
            guard !connectReceived else { return }
            connectReceived = true
            // One that is not JSON gets only a close frame, as Centrifugo answers it: there is no
            // connection yet to send a disconnect push on.
            guard (try? UnidirectionalJSONCodec.connectRequest(message)) != nil else {
                return fail(.unknown(Disconnect.badRequest.code), reason: Disconnect.badRequest.reason)
            }
        }
        let (startTask, pause) = inbox.push(message)
        if pause { setAutoRead(false) }
        if startTask { startHandling() }
    }

    /// A task on this loop that hands waiting messages to the session, in order, and ends when
    /// the inbox is empty.
    private func startHandling() {
        let resume = NIOLoopBound(self, eventLoop: executor.eventLoop)
        inbox.startTask(session: session, executor: executor) { resume.value.resumeReading() }
    }

    private func resumeReading() {
        setAutoRead(true)
    }

    /// Reading stops while the session is behind (`CommandInbox.pauseDepth`): the client's
    /// messages then wait in its socket, not in our memory.
    private func setAutoRead(_ on: Bool) {
        try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    /// The client's close frame: the answer to ours ends the connection; otherwise it is echoed
    /// with its code first (RFC 6455 §5.5.1).
    private func closeReceived(_ frame: WebSocketFrame) {
        if !writer.closeSent {
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            writer.sendClose(code: code)
        }
        context?.close(promise: nil)
    }

    /// A protocol error: close frame with its code, then the socket.
    private func fail(_ code: WebSocketErrorCode, reason: String = "") {
        message = []
        inMessage = false
        writer.sendClose(code: UInt16(webSocketErrorCode: code), reason: reason)
        context?.close(promise: nil)
    }

    // MARK: The connection's end

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writer.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if inbox.close() { startHandling() }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // The server is stopping: clients are told to reconnect elsewhere (3001).
            session.disconnect(.shutdown)
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            // The client half-closed: nothing more will come, and nothing it would read.
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("websocket connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketConnectionHandler: Sendable {}
