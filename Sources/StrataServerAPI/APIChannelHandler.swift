import HTTPTypes
import NIOCore
import NIOHTTPTypes
import StrataTransport

/// Serves the HTTP server API straight off a connection's channel pipeline, on the connection's
/// event loop. It sits after the HTTP/1 codec and before Hummingbird's async channel: API requests
/// stop here and are answered here; every other request passes on to Hummingbird's router.
///
/// Why: a publish is the call a backend makes most, and Hummingbird's per-request plumbing (the
/// async channel in and out, the request and router, the response writer) cost more CPU than the
/// publish itself (docs/benchmarks.md §6). Here a request costs one task for the API call.
///
/// Responses keep request order on a connection even when a client pipelines: while a call runs,
/// or while a forwarded request's response has not ended, later requests wait in `pending`, and
/// reading stops until they are taken.
public final class APIChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// An API request whose body is arriving (`request` holds it).
        case readingBody
        /// The API call runs; its reply is written when it returns.
        case calling
        /// A request for another route, passed on: done when both it and its response ended.
        case forwarding(requestEnded: Bool, responseEnded: Bool)
        /// Told to close (body too large, `Connection: close`): whatever else arrives is dropped.
        case closing
        case removed
    }

    private struct APIRequest {
        var method: String
        var head: HTTPRequest
        var body: ByteBuffer
    }

    private let endpoint: APIEndpoint
    private let serverName: String
    private let maxBody: Int
    private var state = State.idle
    private var request: APIRequest?
    private var pending = CircularBuffer<HTTPRequestPart>()
    private var readHeld = false
    /// The server is shutting down: close once the running call has replied.
    private var closeWhenIdle = false

    /// `maxBody`: larger request bodies get 413 and the connection closes.
    public init(endpoint: APIEndpoint, serverName: String, maxBody: Int = APIEndpoint.maxBody) {
        self.endpoint = endpoint
        self.serverName = serverName
        self.maxBody = maxBody
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        state = .removed
        pending.removeAll()
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !pending.isEmpty || isWaiting {
            pending.append(part)
            return
        }
        handle(part, context: context)
    }

    /// Whether the next request must wait for the current one's response.
    private var isWaiting: Bool {
        switch state {
        case .idle, .readingBody: false
        case .forwarding(let requestEnded, _): requestEnded
        case .calling, .closing, .removed: true
        }
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if let path = head.path, let method = endpoint.method(forPath: path) {
                state = .readingBody
                request = APIRequest(method: method, head: head, body: context.channel.allocator.buffer(capacity: 0))
            } else {
                state = .forwarding(requestEnded: false, responseEnded: false)
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.readingBody, .body(var chunk)):
            guard var current = request else { return }
            request = nil  // so that appending does not copy the buffer
            guard current.body.readableBytes + chunk.readableBytes <= maxBody else {
                reply(APIEndpoint.bodyTooLarge, close: true, context: context)
                return
            }
            current.body.writeBuffer(&chunk)
            request = current
        case (.readingBody, .end):
            guard let current = request else { return }
            request = nil
            call(current, context: context)
        case (.forwarding(false, let responseEnded), _):
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part {
                state = responseEnded ? .idle : .forwarding(requestEnded: true, responseEnded: false)
            }
        case (.closing, _), (.removed, _):
            break
        default:
            // Out of order parts (a body before any head): Hummingbird's loop answers those.
            state = .forwarding(requestEnded: false, responseEnded: false)
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Graceful shutdown: Hummingbird's state handler closes idle connections at once. It never
        // sees API requests, so a connection in the middle of one closes here, after the reply.
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .readingBody, .calling:
                closeWhenIdle = true
                return
            default:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: The call

    private func call(_ request: APIRequest, context: ChannelHandlerContext) {
        state = .calling
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let endpoint = self.endpoint
        let path = request.head.path ?? ""
        let close = request.head.headerFields[.connection]?.lowercased() == "close"
        Task(executorPreference: EventLoopTaskExecutor(loop)) {
            let reply = await endpoint.respond(
                method: request.method, httpMethod: request.head.method, path: path, headers: request.head.headerFields,
                body: Array(request.body.readableBytesView))
            // The task runs on the loop (its executor preference); the check covers a hop elsewhere.
            if loop.inEventLoop {
                handler.value.finishCall(reply, close: close, context: boundContext.value)
            } else {
                loop.execute { handler.value.finishCall(reply, close: close, context: boundContext.value) }
            }
        }
    }

    private func finishCall(_ reply: APIReply, close: Bool, context: ChannelHandlerContext) {
        // Removed from the pipeline (the connection closed) while the call ran: nobody to answer.
        guard case .calling = state else { return }
        self.reply(reply, close: close, context: context)
    }

    private func reply(_ reply: APIReply, close: Bool, context: ChannelHandlerContext) {
        let close = close || closeWhenIdle
        var fields = HTTPFields()
        fields.reserveCapacity(5)
        if let contentType = reply.contentType { fields.append(HTTPField(name: .contentType, value: contentType)) }
        fields.append(HTTPField(name: .contentLength, value: String(reply.body.count)))
        fields.append(HTTPField(name: .date, value: HTTPDate.now()))
        fields.append(HTTPField(name: .server, value: serverName))
        if close { fields.append(HTTPField(name: .connection, value: "close")) }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: reply.status, headerFields: fields))), promise: nil)
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: reply.body))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            state = .closing
            pending.removeAll()
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        state = .idle
        takePending(context: context)
    }

    /// Handles the parts that waited, for as long as nothing makes them wait again.
    private func takePending(context: ChannelHandlerContext) {
        while !pending.isEmpty, !isWaiting {
            handle(pending.removeFirst(), context: context)
        }
        if pending.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
    }

    // MARK: Outbound

    public func read(context: ChannelHandlerContext) {
        if pending.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        // The end of a forwarded request's response: the next request may go.
        guard isEnd, case .forwarding(let requestEnded, false) = state else { return }
        if requestEnded {
            state = .idle
            takePending(context: context)
        } else {
            state = .forwarding(requestEnded: false, responseEnded: true)
        }
    }
}

@available(*, unavailable)
extension APIChannelHandler: Sendable {}
