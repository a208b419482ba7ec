import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Strata's HTTP server: a listening socket whose connections are set up synchronously, in the
/// event loop's accept, with `StrataHTTPChannel`'s pipeline; Hummingbird's router answers the
/// requests that reach it (`/health`, `/metrics`).
///
/// Why not Hummingbird's `Application`: its server hands every accepted connection through an
/// async sequence to a task on Swift's global pool, which then waits for the connection's first
/// request. For a WebSocket connection that is two thread wake-ups and a task per connect, about
/// a tenth of a reconnect storm's server CPU (docs/benchmarks.md, "Connection cost"). Here a
/// WebSocket connection never has a task; a plain HTTP connection gets one on its own loop when
/// a request reaches Hummingbird's router (`HTTPTaskStarter`).
///
/// Graceful shutdown: the listening socket closes, every connection is told to quiesce (HTTP
/// connections close after their current request, WebSocket sessions end with 3001), and `run`
/// returns once all of them have closed.
package struct StrataHTTPServer<Responder: HTTPResponder>: Service where Responder.Context == StrataRequestContext {
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        /// The listen backlog: after a deploy thousands of clients reconnect at the same moment,
        /// and a full queue costs each overflowing client a one-second SYN retry.
        package var backlog: Int32
        /// The `Server` response header.
        package var serverName: String
        /// TLS on every connection (`http_server.tls`): the handshake comes before anything else.
        package var tls: NIOSSLContext?

        package init(host: String, port: Int, backlog: Int32 = 4096, serverName: String = "strata", tls: NIOSSLContext? = nil) {
            self.host = host
            self.port = port
            self.backlog = backlog
            self.serverName = serverName
            self.tls = tls
        }
    }

    let configuration: Configuration
    let responder: Responder
    let webSocket: (any WebSocketUpgradeEndpoint)?
    let channelHandlers: @Sendable () -> [any ChannelHandler]
    let onServerRunning: @Sendable (any Channel) -> Void
    let logger: Logger
    let group: any EventLoopGroup

    package init(
        configuration: Configuration, responder: Responder, webSocket: (any WebSocketUpgradeEndpoint)?,
        channelHandlers: @escaping @Sendable () -> [any ChannelHandler] = { [] }, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, onServerRunning: @escaping @Sendable (any Channel) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.responder = responder
        self.webSocket = webSocket
        self.channelHandlers = channelHandlers
        self.group = group
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    package func run() async throws {
        let connections = StrataHTTPChannel(responder: routerResponder(), webSocket: webSocket, channelHandlers: channelHandlers)
        let quiesce = ServerQuiescingHelper(group: group)
        let logger = logger
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: configuration.backlog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [tls = configuration.tls] channel in
                if let tls {
                    // Decrypts below everything else: the HTTP parser, the upgrade and the
                    // WebSocket handlers see plain bytes, as without TLS. A handshake that never
                    // completes is closed with the first-request timeout.
                    do {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                return connections.start(channel: channel, logger: logger)
            }
            .bind(host: configuration.host, port: configuration.port).get()
        onServerRunning(server)
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            quiesce.initiateShutdown(promise: nil)
        }
        // The listening socket is closed (by the shutdown, or otherwise): wait for the
        // connections it accepted (a shutdown already under way is joined, not started again).
        let allClosed = server.eventLoop.makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: allClosed)
        try? await allClosed.futureResult.get()
    }

    /// Hummingbird's router as the HTTP connections' responder, with the `Date` and `Server`
    /// headers every response carries.
    private func routerResponder() -> HTTPChannelHandler.Responder {
        let responder = responder
        let logger = logger
        let serverName = configuration.serverName
        return { request, responseWriter, channel in
            let context = StrataRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch {
                logger.debug("request failed", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = HTTPDate.now()
            response.headers[.server] = serverName
            try await responseWriter.write(response: response.head, body: response.body)
        }
    }
}
