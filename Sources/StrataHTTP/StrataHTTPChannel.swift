import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// A WebSocket endpoint served on the HTTP server's connections. The transport behind it owns
/// the frames and the session; this module only performs the upgrade.
package protocol WebSocketUpgradeEndpoint: Sendable {
    /// The largest frame NIO's decoder accepts (a larger one closes the connection with 1009).
    var maxFrameSize: Int { get }
    /// Whether upgrade requests for this path are this endpoint's.
    func serves(_ path: Substring) -> Bool
    /// Decides on an upgrade request from `peer` (on the event loop, synchronously).
    func shouldUpgrade(_ head: HTTPRequestHead, peer: SocketAddress?) -> WebSocketUpgradeDecision
    /// Adds the connection's handlers once the 101 response is written (on the event loop). NIO's
    /// frame encoder and decoder are in the pipeline already.
    func upgraded(_ channel: any Channel, head: HTTPRequestHead) throws
}

/// What a `WebSocketUpgradeEndpoint` answers to an upgrade request.
package enum WebSocketUpgradeDecision: Sendable {
    /// Upgrade, with these extra response headers (a subprotocol).
    case upgrade(HTTPHeaders)
    /// Refuse with this status (403 for a refused origin, as Centrifugo; 400 otherwise), a
    /// plain-text body of its reason phrase and `Sec-WebSocket-Version: 13`.
    case refuse(HTTPResponseStatus)
    /// Refuse with this status and plain-text body (what Go's `http.Error` writes), before any
    /// upgrade check: a request the endpoint cannot take (uni_websocket's bad `cf_connect`).
    case reject(HTTPResponseStatus, body: String)
    /// Not this endpoint's path: `404` with Go's `404 page not found`, as Centrifugo's mux
    /// answers an upgrade request for a path it does not serve.
    case notHere
}

/// Several WebSocket endpoints on one server (the bidirectional one and uni_websocket), each
/// taking the upgrade requests for its own path.
package struct WebSocketEndpoints: WebSocketUpgradeEndpoint {
    let endpoints: [any WebSocketUpgradeEndpoint]

    package init(_ endpoints: [any WebSocketUpgradeEndpoint]) {
        self.endpoints = endpoints
    }

    package var maxFrameSize: Int { endpoints.map(\.maxFrameSize).max() ?? 65536 }

    package func serves(_ path: Substring) -> Bool { endpoint(for: path) != nil }

    private func endpoint(for path: Substring) -> (any WebSocketUpgradeEndpoint)? {
        endpoints.first { $0.serves(path) }
    }

    package func shouldUpgrade(_ head: HTTPRequestHead, peer: SocketAddress?) -> WebSocketUpgradeDecision {
        endpoint(for: QueryString.split(head.uri).path)?.shouldUpgrade(head, peer: peer) ?? .notHere
    }

    package func upgraded(_ channel: any Channel, head: HTTPRequestHead) throws {
        try endpoint(for: QueryString.split(head.uri).path)?.upgraded(channel, head: head)
    }
}

/// Strata's HTTP/1 connections: a WebSocket upgrade hands the connection to the endpoint's
/// channel handlers, with no task; any other request goes through the pipeline's own handlers
/// (`channelHandlers`, ahead of Hummingbird's HTTP types codec: the server API) and then to
/// Hummingbird's router, in a task on the connection's event loop. `StrataHTTPServer` accepts
/// the connections.
///
/// Why not Hummingbird's `HTTP1WebSocketUpgradeChannel`: it runs every WebSocket connection as
/// a task for the connection's whole life, and an idle task keeps the stack slabs its deepest
/// call needed (~30 KB per connection after a subscribe, measured with heaptrack). Here an idle
/// WebSocket connection owns its channel, its handlers and its session, and no task
/// (docs/decisions/0008-websocket-on-channel-handlers.md).
package struct StrataHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    package enum UpgradeResult: Sendable {
        /// The endpoint's handlers run the connection; nothing is left to do in a task.
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, Refusal)
    }

    /// How a refused upgrade is answered: a plain-text body and, for a failed upgrade check,
    /// `Sec-WebSocket-Version: 13` (what Centrifugo's upgrader adds).
    package struct Refusal: Sendable {
        let status: HTTPResponse.Status
        let body: String
        let upgradeCheck: Bool
    }

    package struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        package let channel: any Channel
    }

    /// Each connection keeps its last receive buffer for the next read (NIO's pooled receive
    /// buffer), as large as the largest read it needed. NIO's default starts at 2 KiB, a quarter
    /// of an idle WebSocket connection's memory; commands are small, so reads start at 512 bytes
    /// and grow only for a connection that sends large messages.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    /// How long a new connection has to send its first request head.
    static let firstRequestTimeout = TimeAmount.seconds(10)

    package let responder: HTTPChannelHandler.Responder
    let webSocket: (any WebSocketUpgradeEndpoint)?
    let channelHandlers: @Sendable () -> [any ChannelHandler]

    package init(
        responder: @escaping HTTPChannelHandler.Responder, webSocket: (any WebSocketUpgradeEndpoint)?,
        channelHandlers: @escaping @Sendable () -> [any ChannelHandler]
    ) {
        self.responder = responder
        self.webSocket = webSocket
        self.channelHandlers = channelHandlers
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            try channel.pipeline.syncOperations.addHandler(HTTPIdleTimeout(), name: HTTPIdleTimeout.name, position: .first)
            // Set when an upgrade was asked for and not made: the status to refuse it with.
            let refusal = NIOLoopBoundBox<Refusal?>(nil, eventLoop: channel.eventLoop)
            var upgraders: [any NIOTypedHTTPServerProtocolUpgrader<UpgradeResult>] = []
            if let endpoint = webSocket {
                upgraders.append(
                    NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                        maxFrameSize: endpoint.maxFrameSize,
                        shouldUpgrade: { channel, head in
                            switch endpoint.shouldUpgrade(head, peer: channel.remoteAddress) {
                            case .upgrade(let headers):
                                return channel.eventLoop.makeSucceededFuture(headers)
                            case .refuse(let status):
                                refusal.value = Refusal(
                                    status: HTTPResponse.Status(code: Int(status.code), reasonPhrase: status.reasonPhrase),
                                    body: status.reasonPhrase, upgradeCheck: true)
                            case .reject(let status, let body):
                                refusal.value = Refusal(
                                    status: HTTPResponse.Status(code: Int(status.code), reasonPhrase: status.reasonPhrase), body: body,
                                    upgradeCheck: false)
                            case .notHere:
                                refusal.value = Refusal(status: .notFound, body: "404 page not found\n", upgradeCheck: false)
                            }
                            return channel.eventLoop.makeSucceededFuture(nil)
                        },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                // A WebSocket is long-lived by design: pings and the write timeout watch it.
                                _ = channel.pipeline.syncOperations.removeHandler(name: HTTPIdleTimeout.name)
                                try endpoint.upgraded(channel, head: head)
                                return .webSocket
                            }
                        }))
            }
            let handlers = channelHandlers
            let configuration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: upgraders,
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        // Ahead of the codec: these handlers see NIO's HTTP/1 parts.
                        try pipeline.addHandlers(handlers())
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        try pipeline.addHandler(HTTPTaskStarter())
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let refused = refusal.value { return .failedUpgrade(http, refused) }
                        return .notUpgraded(http)
                    }
                })
            var pipelineConfiguration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: configuration)
            pipelineConfiguration.enablePipelining = false  // the async channel and APIChannelHandler order requests
            pipelineConfiguration.enableErrorHandling = false  // Hummingbird and APIChannelHandler answer errors
            pipelineConfiguration.enableResponseHeaderValidation = false  // HTTP types validate already
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipelineConfiguration)
            // A connection that has not sent a whole request head by then is closed: otherwise a
            // client could hold sockets open forever by sending nothing, or a header a byte at a
            // time (Centrifugo closes them after 10 s too).
            let deadline = channel.eventLoop.scheduleTask(in: Self.firstRequestTimeout) { [channel] in channel.close(promise: nil) }
            result.whenComplete { _ in deadline.cancel() }
            channel.closeFuture.whenComplete { _ in deadline.cancel() }
            return Value(upgradeResult: result, channel: channel)
        }
    }

    /// As a Hummingbird child channel (`ServerChildChannel`): the connection's task serves it.
    /// `StrataHTTPServer` uses `start` instead, which needs no task for a WebSocket.
    package func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            do {
                await serve(try await value.upgradeResult.get(), logger: logger)
            } catch {
                logger.debug("connection ended before its first request was answered", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Sets up a new connection's pipeline (synchronously, in the accept) and, once its first
    /// request is in, prepares what that needs: nothing for a WebSocket, which its handlers run;
    /// for HTTP, a task on the connection's loop (docs/decisions/0003), started when a request
    /// reaches the router (`HTTPTaskStarter`); a refused upgrade's answer at once.
    package func start(channel: any Channel, logger: Logger) -> EventLoopFuture<Void> {
        setup(channel: channel, logger: logger).map { value in
            value.upgradeResult.whenComplete { result in
                switch result {
                case .success(.webSocket):
                    break
                case .success(.notUpgraded(let http)):
                    // The task starts with the first request that reaches the router; requests
                    // answered in the pipeline (the API, HTTP streams) never need one.
                    let start = { @Sendable in
                        Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) {
                            await serve(.notUpgraded(http), logger: logger)
                        }
                        return
                    }
                    if let starter = try? channel.pipeline.syncOperations.handler(type: HTTPTaskStarter.self) {
                        starter.arm(start)
                    } else {
                        start()
                    }
                case .success(let refused):
                    Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) { await serve(refused, logger: logger) }
                case .failure(let error):
                    logger.debug("connection ended before its first request was answered", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// What follows the first request: the endpoint's handlers run a WebSocket; HTTP requests go
    /// to Hummingbird's responder; a refused upgrade gets 400.
    private func serve(_ result: UpgradeResult, logger: Logger) async {
        switch result {
        case .webSocket:
            return
        case .notUpgraded(let http):
            await handleHTTP(asyncChannel: http, logger: logger)
        case .failedUpgrade(let http, let refused):
            await refuseUpgrade(http, refused)
        }
    }

    /// A refused WebSocket upgrade: its status and plain-text body, then close.
    private func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ refused: Refusal) async {
        try? await http.executeThenClose { _, outbound in
            let body = ByteBuffer(string: refused.body)
            var head = HTTPResponse(
                status: refused.status,
                headerFields: [
                    .connection: "close", .contentType: "text/plain; charset=utf-8", .contentLength: "\(body.readableBytes)",
                    .xContentTypeOptions: "nosniff",
                ])
            if refused.upgradeCheck { head.headerFields[.secWebSocketVersion] = "13" }
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }
}

/// Starts an HTTP connection's task (Hummingbird's request loop) when the first request part
/// reaches the end of the pipeline, not when the connection opens.
///
/// Why: the server API and the HTTP streams are answered by handlers in the pipeline, so their
/// connections never hand a request to the router; yet a task waiting for one keeps its stack
/// slabs, ~10 KB per connection (heaptrack, an SSE connection: 16 KB with the task, docs/benchmarks-log.md §9).
/// Until the task runs nobody reads the async channel, so the client's half-close, which that
/// loop would turn into the connection's end, closes the connection here.
final class HTTPTaskStarter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private var start: (@Sendable () -> Void)?
    private var started = false
    /// A request part came before `arm`: the task starts as soon as it is armed.
    private var pending = false

    /// The task's start, once the connection's async channel exists (on the event loop).
    func arm(_ start: @escaping @Sendable () -> Void) {
        guard !started else { return }
        if pending {
            started = true
            start()
        } else {
            self.start = start
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !started {
            if let start {
                started = true
                self.start = nil
                start()
            } else {
                pending = true
            }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !started && !pending, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension HTTPTaskStarter: Sendable {}
