import NIOCore
import NIOHTTP1
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// One HTTP connection's part in the HTTP transports: it sits right after NIO's HTTP/1 decoder,
/// takes requests for `/connection/http_stream`, `/connection/sse`, the one-way `uni_sse` and
/// `uni_http_stream`, and `/emulation`, and passes every other request on (the server API,
/// Hummingbird's router).
///
/// A stream request turns the connection into that stream: the response head goes out, the
/// connection gets a session, and the session's messages are written as body chunks
/// (`HTTPStreamWriter`) until either side ends it; then the connection closes. An `/emulation`
/// request hands its frame to the named connection's session and is answered `204` once the
/// session has handled it (reading pauses meanwhile, and what was read already waits, so
/// responses keep request order). Like the
/// WebSocket handler, nothing here needs a task of its own: one runs only while a frame waits.
final class HTTPStreamingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// A request for another handler: its parts pass on until its end.
        case forwarding
        /// A request of ours whose body is arriving.
        case reading(HTTPStreamingTransport.Route, HTTPStreamingTransport.Endpoint, HTTPRequestHead, ByteBuffer)
        /// Refusing the rest of a request (413): nothing more is read.
        case discarding
        /// An `/emulation` frame is being handled; parts that arrive meanwhile wait.
        case emulating
        /// The connection is a stream now.
        case streaming(StreamConnection)
    }

    private let transport: HTTPStreamingTransport
    private var state = State.idle
    /// The stream's writer, told of the channel's writability (`HTTPStreamWriter.writabilityChanged`).
    private var writer: HTTPStreamWriter?
    private var waiting: [HTTPServerRequestPart] = []

    init(transport: HTTPStreamingTransport) {
        self.transport = transport
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .emulating:
            waiting.append(part)
        case .discarding, .streaming:
            return
        default:
            handle(part, context: context)
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            let (path, _) = QueryString.split(head.uri)
            guard let (route, endpoint) = transport.route(path) else {
                state = .forwarding
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            state = .reading(route, endpoint, head, context.channel.allocator.buffer(capacity: 0))
        case (.forwarding, _):
            if case .end = part { state = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case (.reading(let route, let endpoint, let head, var body), .body(var chunk)):
            guard body.readableBytes + chunk.readableBytes <= endpoint.maxBodySize else {
                state = .discarding
                respond(.payloadTooLarge, head: head, close: true, context: context)
                return
            }
            state = .idle  // so that appending does not copy the buffer
            body.writeBuffer(&chunk)
            state = .reading(route, endpoint, head, body)
        case (.reading(let route, let endpoint, let head, let body), .end):
            state = .idle
            requestEnded(route, endpoint: endpoint, head: head, body: Array(body.readableBytesView), context: context)
        default:
            break
        }
    }

    /// Answers a whole request of ours (transports.md §4.2–§4.4).
    private func requestEnded(
        _ route: HTTPStreamingTransport.Route, endpoint: HTTPStreamingTransport.Endpoint, head: HTTPRequestHead, body: [UInt8],
        context: ChannelHandlerContext
    ) {
        if route != .emulation, head.method != .OPTIONS, !transport.sessions.admits(from: PeerAddress(context.channel.remoteAddress)) {
            return respond(.serviceUnavailable, head: head, context: context)
        }
        switch (route, head.method) {
        case (.httpStream, .OPTIONS), (.emulation, .OPTIONS), (.uniHTTPStream, .OPTIONS):
            respond(.noContent, head: head, extra: HTTPStreamingTransport.preflightHeaders, context: context)
        case (.uniHTTPStream, .POST):
            startOneWay(head: head, request: body, sse: false, refusals: endpoint.refusals, context: context)
        case (.uniSSE, .GET):
            // No `cf_connect` is an empty connect request here (unlike the bidirectional SSE).
            let (_, query) = QueryString.split(head.uri)
            let request = query.flatMap { QueryString.value(of: "cf_connect", in: $0) }.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
            startOneWay(head: head, request: request ?? Array("{}".utf8), sse: true, refusals: endpoint.refusals, context: context)
        case (.uniSSE, .POST):
            startOneWay(head: head, request: body, sse: true, refusals: endpoint.refusals, context: context)
        case (.httpStream, .POST):
            let protobuf = head.headers.first(name: "content-type") == "application/octet-stream"
            startStream(head: head, frame: body, protobuf: protobuf, sse: false, context: context)
        case (.sse, .GET):
            let (_, query) = QueryString.split(head.uri)
            guard let frame = query.flatMap({ QueryString.value(of: "cf_connect", in: $0) }), !frame.isEmpty else {
                return respond(.badRequest, head: head, context: context)
            }
            startStream(head: head, frame: Array(frame.utf8), protobuf: false, sse: true, context: context)
        case (.sse, .POST):
            startStream(head: head, frame: body, protobuf: false, sse: true, context: context)
        case (.emulation, .POST):
            emulate(head: head, body: body, context: context)
        default:
            respond(.methodNotAllowed, head: head, context: context)
        }
    }

    // MARK: Streams

    private func startStream(head: HTTPRequestHead, frame: [UInt8], protobuf: Bool, sse: Bool, context: ChannelHandlerContext) {
        let codec: any ClientCodec = protobuf ? ProtobufCodec() : JSONCodec()
        let session = transport.sessions.openEmulated(
            codec: codec, transport: sse ? .sse : .httpStream, lane: transport.batchers(context.eventLoop), headers: { head.headers[$0] })
        stream(
            session, head: head, frame: frame, contentType: sse ? .sse : protobuf ? .binary : .text,
            framing: sse ? .serverSentEvents : protobuf ? .varintDelimited : .newlineTerminated, context: context)
    }

    /// A one-way stream (transports.md §5.3, §5.4): its connect request must be JSON (400
    /// otherwise, before any stream); a `uni_sse` reconnect's `Last-Event-ID` names where its
    /// channel resumes.
    private func startOneWay(
        head: HTTPRequestHead, request: [UInt8], sse: Bool, refusals: [HTTPStreamingTransport.Refusal]?, context: ChannelHandlerContext
    ) {
        guard (try? UnidirectionalJSONCodec.connectRequest(request)) != nil else {
            return respond(.badRequest, head: head, context: context)
        }
        let codec: any ClientCodec
        if sse {
            codec = UnidirectionalSSECodec(lastEventID: head.headers.first(name: "last-event-id").flatMap(SSEEventID.init))
        } else {
            codec = UnidirectionalJSONCodec()
        }
        let session = transport.sessions.openUnidirectional(
            codec: codec, transport: sse ? .uniSSE : .uniHTTPStream, lane: transport.batchers(context.eventLoop), headers: { head.headers[$0] })
        stream(
            session, head: head, frame: request, contentType: sse ? .sse : .text, framing: sse ? .serverSentEventLines : .newlineTerminated,
            refusals: refusals, context: context)
    }

    private enum ContentType {
        case sse, text, binary

        /// Centrifugo leaves Content-Type to Go's sniffing for HTTP streams, which gives these.
        var value: String {
            switch self {
            case .sse: "text/event-stream; charset=utf-8"
            case .text: "text/plain; charset=utf-8"
            case .binary: "application/octet-stream"
            }
        }
    }

    /// Turns the connection into `session`'s stream and hands the session its first frame.
    private func stream(
        _ session: ClientSession, head: HTTPRequestHead, frame: [UInt8], contentType: ContentType, framing: HTTPStreamFraming,
        refusals: [HTTPStreamingTransport.Refusal]? = nil, context: ChannelHandlerContext
    ) {
        let codec = session.codec
        // A stream lives as long as its client wants: the session's pings watch it, not the
        // idle timeout of request/response connections.
        _ = context.pipeline.syncOperations.removeHandler(name: HTTPIdleTimeout.name)
        var headers = HTTPHeaders(HTTPStreamingTransport.streamHeaders + transport.corsHeaders(head))
        headers.add(name: "Content-Type", value: contentType.value)
        let responseHead = HTTPResponseHead(version: head.version, status: .ok, headers: headers)
        // An SSE body opens with an empty line, sent before the connect is handled.
        let prelude: [UInt8] = contentType == .sse ? [0x0D, 0x0A] : []
        var deferred: HTTPStreamWriter.DeferredHead?
        if let refusals {
            // The head waits for the connect: a refusal becomes an HTTP answer instead.
            deferred = .init(head: responseHead, prelude: prelude) { disconnect in
                HTTPStreamingTransport.refusal(refusals, disconnect: disconnect, error: session.refusedConnectError)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.head(responseHead)), promise: nil)
        }
        let writer = HTTPStreamWriter(
            context: context, queue: session.queue, batcher: transport.batchers(context.eventLoop),
            framing: framing, disconnectMessage: { codec.disconnectPush($0) },
            chunked: head.version.major == 1 && head.version.minor >= 1, deferredHead: deferred)
        if deferred == nil && !prelude.isEmpty { writer.writeBody(prelude) }
        writer.start()
        self.writer = writer
        let connection = StreamConnection(session: session, executor: transport.executors(context.eventLoop))
        if let id = session.style.emulationSession { transport.connections.add(id, connection) }
        state = .streaming(connection)
        session.startTimers()
        connection.submit(frame)
    }

    // MARK: Emulation

    /// `POST /emulation`: the frame goes to the named session; 404 for another node, 400 for a
    /// body that is not an emulation request, 204 otherwise (also for an unknown session, as
    /// Centrifugo answers), after the session handled the frame.
    private func emulate(head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        let protobuf = head.headers.first(name: "content-type") == "application/octet-stream"
        guard let request = EmulationRequest(body, protobuf: protobuf) else {
            return respond(.badRequest, head: head, context: context)
        }
        guard request.node == transport.sessions.nodeID else { return respond(.notFound, head: head, context: context) }
        guard let connection = transport.connections.find(request.session) else {
            return respond(.noContent, head: head, context: context)
        }
        // A JSON session takes `data` as the text of a JSON string; a Protobuf session the bytes.
        let sessionSpeaksProtobuf = connection.session.codec.kind == .protobuf
        guard let frame = sessionSpeaksProtobuf == protobuf ? request.data : nil else {
            return respond(.noContent, head: head, context: context)
        }
        state = .emulating
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        connection.submit(frame) {
            loop.execute { handler.value.emulated(head: head, context: boundContext.value) }
        }
    }

    private func emulated(head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .emulating = state else { return }
        state = .idle
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        respond(.noContent, head: head, context: context)
        let parts = waiting
        waiting = []
        for part in parts {
            if case .emulating = state {
                waiting.append(part)
            } else {
                handle(part, context: context)
            }
        }
    }

    // MARK: Plain responses

    private func respond(
        _ status: HTTPResponseStatus, head: HTTPRequestHead, extra: [(String, String)] = [], close: Bool = false,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders(transport.corsHeaders(head) + extra)
        if status != .noContent { headers.add(name: "Content-Length", value: "0") }
        let closing = close || !head.isKeepAlive
        if closing { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if closing {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: The connection's end

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writer?.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .streaming(let connection) = state {
            if let id = connection.session.style.emulationSession { transport.connections.remove(id) }
            connection.close()
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .streaming(let connection) = state {
            if event is ChannelShouldQuiesceEvent {
                // The server is stopping: the client is told to reconnect (3001).
                connection.session.disconnect(.shutdown)
                return
            }
            if let event = event as? ChannelEvent, event == .inputClosed {
                // The client half-closed: a stream's client that stops sending has gone away.
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension HTTPStreamingHandler: Sendable {}
