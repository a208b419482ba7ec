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
///
/// On HTTP/1.1 the body chunks are framed here and written from NIO's response encoder's place
/// in the pipeline, one buffer per batch: through the encoder each chunk was three writes (size
/// line, data, CRLF) and a hex string, a fifth of a paced SSE fan-out's CPU in user space
/// (docs/benchmarks-log.md §9). The head and the end still go through the encoder.
final class HTTPStreamWriter: Drainable, DirectWriter {
    private let context: NIOLoopBound<ChannelHandlerContext>
    private let channel: any Channel
    private let queue: OutboundQueue
    private let batcher: DrainBatcher
    private let framing: HTTPStreamFraming
    /// The stream's last message: a disconnect push in the session's codec.
    private let disconnectMessage: @Sendable (Disconnect) -> [UInt8]
    private let ended: NIOLoopBoundBox<Bool>
    /// Open once the head is out, until the stream ends.
    private let gate: DirectWriteGate
    /// The response encoder's context, where pre-framed chunks are written (HTTP/1.1 only).
    private let chunkContext: NIOLoopBound<ChannelHandlerContext?>
    /// A response head held back until the connect's outcome (`connect_code_to_http_response`).
    private let deferred: NIOLoopBoundBox<DeferredHead?>
    /// What ends the response (uni_grpc: `grpc-status: 0`).
    private let trailers: HTTPHeaders?

    /// The stream's head and opening bytes, written with its first messages; a connect refused
    /// before that is answered as a plain HTTP response instead (`refusal`).
    struct DeferredHead: Sendable {
        var head: HTTPResponseHead
        var prelude: [UInt8]
        var refusal: @Sendable (Disconnect) -> (status: HTTPResponseStatus, body: String)
    }

    init(
        context: ChannelHandlerContext, queue: OutboundQueue, batcher: DrainBatcher, framing: HTTPStreamFraming,
        disconnectMessage: @escaping @Sendable (Disconnect) -> [UInt8], chunked: Bool, deferredHead: DeferredHead? = nil,
        trailers: HTTPHeaders? = nil
    ) {
        self.trailers = trailers
        self.deferred = .makeBoxSendingValue(deferredHead, as: DeferredHead?.self, eventLoop: context.eventLoop)
        let encoder = chunked ? try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) : nil
        self.chunkContext = NIOLoopBound(encoder, eventLoop: context.eventLoop)
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.channel = context.channel
        self.gate = DirectWriteGate(channel: context.channel, open: deferredHead == nil)
        self.queue = queue
        self.batcher = batcher
        self.framing = framing
        self.disconnectMessage = disconnectMessage
        self.ended = .makeBoxSendingValue(false, as: Bool.self, eventLoop: context.eventLoop)
    }

    func start() {
        queue.onReady(direct: self) { [self] in batcher.schedule(self) }
    }

    /// From the stream's handler (`DirectWriteGate`).
    func writabilityChanged(_ isWritable: Bool) {
        gate.writabilityChanged(isWritable)
    }

    func claimDirectWrite() -> Bool {
        gate.allows(batcher)
    }

    func writeClaimed(_ message: [UInt8]) {
        writeMessage(message, framing: framing, flush: true)
    }

    var hotMemory: [(address: UInt, bytes: UInt)] {
        DirectWriteMemory.regions(writer: self, channel: channel, context: chunkContext.value ?? context.value)
    }

    /// From the encoder's place when chunks are framed here: only the handlers towards the
    /// socket need the flush.
    private func flush() {
        chunkContext.value?.flush() ?? context.value.flush()
    }

    /// Writes raw body bytes ahead of the session's messages (SSE's opening empty line).
    func writeBody(_ bytes: [UInt8]) {
        writeBatch([bytes], framing: .raw)
        context.value.flush()
    }

    /// One batch as body bytes. A single message is framed once per event loop for every writer
    /// there that sends it (`FramedMessageCache`).
    private func writeBatch(_ messages: [[UInt8]], framing: HTTPStreamFraming) {
        if messages.count == 1 { return writeMessage(messages[0], framing: framing) }
        let encoder = chunkContext.value
        writeChunk(framing.encode(messages, allocator: channel.allocator, chunked: encoder != nil), encoder: encoder)
    }

    /// One message, framed once per event loop (`FramedMessageCache`); with `flush`, written
    /// and flushed in one walk down the pipeline.
    private func writeMessage(_ message: [UInt8], framing: HTTPStreamFraming, flush: Bool = false) {
        let encoder = chunkContext.value
        let chunked = encoder != nil
        let bytes = batcher.framedMessages.value.framed(message, as: .httpStream(framing, chunked: chunked)) {
            framing.encode([$0], allocator: channel.allocator, chunked: chunked)
        }
        writeChunk(bytes, encoder: encoder, flush: flush)
    }

    /// Body bytes: a pre-framed chunk from the encoder's place, or a body part through the
    /// encoder (HTTP/1.0).
    private func writeChunk(_ bytes: ByteBuffer, encoder: ChannelHandlerContext?, flush: Bool = false) {
        if let encoder {
            if flush { encoder.writeAndFlush(NIOAny(bytes), promise: nil) } else { encoder.write(NIOAny(bytes), promise: nil) }
        } else {
            let part = NIOAny(HTTPServerResponsePart.body(.byteBuffer(bytes)))
            if flush { context.value.writeAndFlush(part, promise: nil) } else { context.value.write(part, promise: nil) }
        }
    }

    func drain() {
        var wrote = false
        let context = context.value
        defer { if wrote { flush() } }
        while true {
            if channel.isActive && !channel.isWritable {
                channel.eventLoop.scheduleTask(in: ChannelFrameWriter.retryDelay) { self.drain() }
                return
            }
            guard let event = queue.poll() else { return }
            switch event {
            case .frame(let messages):
                guard channel.isActive, !ended.value else { continue }
                if let pending = deferred.value {
                    deferred.value = nil
                    gate.setOpen(true)
                    context.write(NIOAny(HTTPServerResponsePart.head(pending.head)), promise: nil)
                    if !pending.prelude.isEmpty { writeBatch([pending.prelude], framing: .raw) }
                }
                writeBatch(messages, framing: framing)
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
        gate.setOpen(false)
        let context = context.value
        guard channel.isActive else { return }
        if let pending = deferred.value {
            // Nothing was streamed yet: a refused connect is a plain HTTP answer.
            deferred.value = nil
            let (status, text) = disconnect.map(pending.refusal) ?? (.internalServerError, "Internal Server Error")
            let body = channel.allocator.buffer(string: text)
            var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(body.readableBytes)")])
            headers.add(name: "Connection", value: "close")
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: pending.head.version, status: status, headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
            let channel = channel
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if let disconnect { writeBatch([disconnectMessage(disconnect)], framing: framing) }
        let channel = channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(trailers))).whenComplete { _ in channel.close(promise: nil) }
    }
}
