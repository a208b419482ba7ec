import HTTPTypes
import NIOCore
import NIOHTTP1
import StrataHTTP

/// Serves the HTTP server API straight off a connection's channel pipeline, on the connection's
/// event loop. It sits right after NIO's HTTP/1 decoder, before Hummingbird's conversion to HTTP
/// types and its async channel: API requests stop here and are answered here; every other request
/// passes on to Hummingbird's router.
///
/// Why: a publish is the call a backend makes most, and Hummingbird's per-request plumbing (the
/// async channel in and out, the request and router, the response writer) cost more CPU than the
/// publish itself (docs/benchmarks-log.md §6, decision 0004). Here a request costs one task, and API
/// requests and replies skip the conversion between NIO's HTTP/1 types and HTTP types.
///
/// Responses keep request order on a connection even when a client pipelines: while a call runs,
/// or while a forwarded request's response has not ended, later requests wait in `pending`, and
/// reading stops until they are taken. What would overtake them (the client's half-close, a parse
/// error, a shutdown notice) waits too.
package final class APIChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPServerRequestPart
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// An API request whose body is arriving (`request` holds it).
        case readingBody
        /// The API call runs; its reply is written when it returns.
        case calling
        /// A request for another route, passed on: done when both it and its response ended.
        case forwarding(requestEnded: Bool, responseEnded: Bool)
        /// The connection is closing: whatever else arrives is dropped.
        case closing
        case removed
    }

    private struct APIRequest {
        var method: String
        var head: HTTPRequestHead
        var body: ByteBuffer
    }

    private let endpoint: APIEndpoint
    private let serverName: String
    private let maxBody: Int
    private var state = State.idle
    private var request: APIRequest?
    private var pending = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    /// The server is shutting down: no call starts any more, and the running one's reply closes.
    private var shuttingDown = false
    /// The client's half-close, or an error, held back until the replies before it are out.
    private var heldEvents: [Any] = []
    private var heldError: (any Error)?

    /// `maxBody`: larger request bodies get 413 and the connection closes.
    package init(endpoint: APIEndpoint, serverName: String, maxBody: Int = APIEndpoint.maxBody) {
        self.endpoint = endpoint
        self.serverName = serverName
        self.maxBody = maxBody
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        state = .removed
        pending.removeAll()
    }

    // MARK: Inbound

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .closing, .removed:
            return
        default:
            break
        }
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

    /// Whether an API request is under way or requests wait: events that would end the
    /// connection must wait behind them.
    private var holdsEvents: Bool {
        switch state {
        case .readingBody, .calling: true
        default: !pending.isEmpty
        }
    }

    /// Takes one part; returns whether it was passed on to Hummingbird.
    @discardableResult
    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) -> Bool {
        switch (state, part) {
        case (.idle, .head(let head)):
            if let method = endpoint.method(forPath: head.uri) {
                state = .readingBody
                request = APIRequest(method: method, head: head, body: ByteBuffer())
                return false
            }
            state = .forwarding(requestEnded: false, responseEnded: false)
            context.fireChannelRead(wrapInboundOut(part))
            return true
        case (.readingBody, .body(var chunk)):
            guard var current = request else { return false }
            request = nil  // so that appending does not copy the buffer
            guard current.body.readableBytes + chunk.readableBytes <= maxBody else {
                reply(APIEndpoint.bodyTooLarge, then: .closeAfterReadingInput, context: context)
                return false
            }
            // A body that came in one piece is kept as it came.
            if current.body.readableBytes == 0 { current.body = chunk } else { current.body.writeBuffer(&chunk) }
            request = current
            return false
        case (.readingBody, .end):
            guard let current = request else { return false }
            request = nil
            call(current, context: context)
            return false
        case (.forwarding(false, let responseEnded), _):
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part {
                if responseEnded {
                    forwardedResponseEnded(context: context)
                } else {
                    state = .forwarding(requestEnded: true, responseEnded: false)
                }
            }
            return true
        case (.closing, _), (.removed, _):
            return false
        default:
            // Out of order parts (a body before any head): Hummingbird's loop answers those.
            state = .forwarding(requestEnded: false, responseEnded: false)
            context.fireChannelRead(wrapInboundOut(part))
            return true
        }
    }

    /// Both the forwarded request and its response ended.
    private func forwardedResponseEnded(context: ChannelHandlerContext) {
        if shuttingDown {
            // Hummingbird closes the connection after this response: start nothing that waits.
            closing(context)
            return
        }
        state = .idle
        takePending(context: context)
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown. Hummingbird's state handler closes idle connections at once and
            // the others after their response; it never sees API requests, so a connection in the
            // middle of one closes here, after the reply. Queued requests are dropped.
            shuttingDown = true
            pending.removeAll()
            switch state {
            case .readingBody, .calling:
                return
            default:
                break
            }
        } else if case ChannelEvent.inputClosed = event {
            if case .closing = state {
                // The client read the closing reply and closed its side.
                context.close(promise: nil)
                return
            }
            if holdsEvents {
                heldEvents.append(event)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .readingBody = state {
            // The request being read is broken (an HTTP parse error): answer it and close.
            request = nil
            reply(.plain(.badRequest, "Bad Request"), then: .closeAfterReadingInput, context: context)
            return
        }
        if holdsEvents {
            if heldError == nil { heldError = error }
            return
        }
        context.fireErrorCaught(error)
    }

    // MARK: The call

    private func call(_ request: APIRequest, context: ChannelHandlerContext) {
        state = .calling
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let endpoint = self.endpoint
        let path = request.head.uri
        let isPost = request.head.method == .POST
        let isGet = request.head.method == .GET
        let headers = APIRequestHeaders(request.head.headers)
        // `Connection: close`, or HTTP/1.0 without keep-alive.
        let close = !request.head.isKeepAlive
        // HTTP/1.0 with keep-alive: the reply must say keep-alive too, or the client closes.
        let announceKeepAlive = request.head.version == .http1_0 && !close
        Task(executorPreference: EventLoopTaskExecutor(loop)) {
            let reply = await endpoint.respond(
                method: request.method, isPost: isPost, isGet: isGet, path: path, headers: headers,
                body: Array(request.body.readableBytesView))
            // The task runs on the loop (its executor preference); the check covers a hop elsewhere.
            if loop.inEventLoop {
                handler.value.finishCall(reply, close: close, announceKeepAlive: announceKeepAlive, context: boundContext.value)
            } else {
                loop.execute {
                    handler.value.finishCall(reply, close: close, announceKeepAlive: announceKeepAlive, context: boundContext.value)
                }
            }
        }
    }

    private func finishCall(_ reply: APIReply, close: Bool, announceKeepAlive: Bool, context: ChannelHandlerContext) {
        // Removed from the pipeline (the connection closed) while the call ran: nobody to answer.
        guard case .calling = state else { return }
        self.reply(reply, then: close ? .close : .keepOpen, announceKeepAlive: announceKeepAlive, context: context)
    }

    private enum AfterReply {
        case keepOpen
        case close
        /// The request was not read to its end (too large, unparseable).
        case closeAfterReadingInput
    }

    private func reply(_ reply: APIReply, then after: AfterReply, announceKeepAlive: Bool = false, context: ChannelHandlerContext) {
        let close = after != .keepOpen || shuttingDown
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        if let contentType = reply.contentType { headers.add(name: "Content-Type", value: contentType) }
        for header in reply.headers { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Length", value: String(reply.body.count))
        headers.add(name: "Date", value: HTTPDate.now())
        headers.add(name: "Server", value: serverName)
        if close {
            headers.add(name: "Connection", value: "close")
        } else if announceKeepAlive {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let status = HTTPResponseStatus(statusCode: reply.status.code)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        switch after {
        case .keepOpen where !shuttingDown:
            state = .idle
            takePending(context: context)
        case .keepOpen, .close:
            closing(context)
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        case .closeAfterReadingInput:
            // Closing with unread data makes the kernel reset the connection, and the client would
            // see the reset, not the reply. So the output closes first, what the client still
            // sends (the rest of an oversized upload) is read and dropped, and the connection
            // closes when the client closes its side, or after a grace period.
            closing(context)
            let channel = context.channel
            written.whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            }
        }
    }

    /// No more requests are taken: what waits is dropped and reading resumes (to drop the rest).
    private func closing(_ context: ChannelHandlerContext) {
        state = .closing
        pending.removeAll()
        heldEvents.removeAll()
        heldError = nil
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Handles the parts that waited, for as long as nothing makes them wait again; then what was
    /// held back behind them.
    private func takePending(context: ChannelHandlerContext) {
        var forwarded = false
        while !pending.isEmpty, !isWaiting {
            if handle(pending.removeFirst(), context: context) { forwarded = true }
        }
        // Hummingbird's async channel hands parts on at the end of a read: outside one, that end
        // must be signalled, or the parts sit in its buffer.
        if forwarded { context.fireChannelReadComplete() }
        if pending.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
        guard !holdsEvents else { return }
        if let error = heldError {
            heldError = nil
            context.fireErrorCaught(error)
        }
        let events = heldEvents
        heldEvents.removeAll()
        for event in events { context.fireUserInboundEventTriggered(event) }
    }

    // MARK: Outbound

    package func read(context: ChannelHandlerContext) {
        if pending.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        // The end of a forwarded request's response: the next request may go.
        guard isEnd, case .forwarding(let requestEnded, false) = state else { return }
        if requestEnded {
            forwardedResponseEnded(context: context)
        } else {
            state = .forwarding(requestEnded: false, responseEnded: true)
        }
    }
}

@available(*, unavailable)
extension APIChannelHandler: Sendable {}
