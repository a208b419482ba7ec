import Logging
import NIOCore
import NIOHTTP1
import NIOExtras
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import StrataHTTP
import StrataHub

/// uni_grpc (docs/transports.md): Centrifugo's `CentrifugoUniStream` on a listener of its own,
/// HTTP/2 without TLS. It serves one method, so it is built on swift-nio-http2 directly rather
/// than on a gRPC framework: a call is an HTTP/2 stream whose pushes the session's writer puts
/// into DATA frames on the connection's event loop, as the other transports write theirs —
/// grpc-swift's per-message async writer cost twice Centrifugo's CPU per push
/// (docs/benchmarks.md, "uni_grpc").
///
/// Each connection pings its client every 25 s and closes when a ping is not answered within
/// 5 s (NIO's server connection manager, as Centrifugo's keepalive); streams are not limited
/// per connection (Go's gRPC server has no limit; one client process's channels may share a
/// connection). On shutdown the connections get GOAWAY after their sessions were told 3001.
package final class UniGRPCTransport: Service, Sendable {
    package struct Options: Sendable {
        /// All interfaces when empty.
        package var address: String
        package var port: Int
        /// `uni_grpc.max_receive_message_size`.
        package var maxRequestSize: Int

        package init(address: String, port: Int, maxRequestSize: Int) {
            self.address = address
            self.port = port
            self.maxRequestSize = maxRequestSize
        }
    }

    let sessions: SessionFactory
    let options: Options
    let batchers = PerEventLoop { DrainBatcher(eventLoop: $0) }
    let executors = PerEventLoop { EventLoopTaskExecutor($0) }
    private let quiesce: ServerQuiescingHelper
    private let group: any EventLoopGroup

    var maxRequestSize: Int { options.maxRequestSize }

    package init(sessions: SessionFactory, options: Options, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.sessions = sessions
        self.options = options
        self.group = group
        self.quiesce = ServerQuiescingHelper(group: group)
    }

    /// Binds the listener; returns its port (`options.port`, or the one given for 0).
    package func bind() async throws -> (any Channel) {
        let quiesce = self.quiesce
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configure(channel) }
            }
            .bind(host: options.address.isEmpty ? "0.0.0.0" : options.address, port: options.port).get()
    }

    /// A connection's pipeline: HTTP/2, its streams each through the HTTP/1 codec to a
    /// `UniGRPCStreamHandler`, and the connection manager (keepalive, graceful close).
    private func configure(_ channel: any Channel) throws {
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(
                maxIdleTime: nil, maxAge: nil, maxGraceTime: .seconds(5), keepalive: .init(pingInterval: .seconds(25), ackTimeout: .seconds(5))))
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: Int(Int32.max)),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        let sync = channel.pipeline.syncOperations
        _ = try sync.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: .init(), streamDelegate: manager.http2StreamDelegate
        ) { [self] stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), UniGRPCStreamHandler(transport: self)])
            }
        }
        try sync.addHandler(manager)
    }

    package func run() async throws {
        let listener = try await bind()
        sessions.logger.info("uni_grpc listening", metadata: ["address": "\(listener.localAddress?.description ?? "")"])
        try await withGracefulShutdownHandler {
            try await listener.closeFuture.get()
        } onGracefulShutdown: { [quiesce] in
            // The node has told every session 3001 by now (its housekeeping stops first): the
            // listener closes and each connection ends with GOAWAY once its streams are done.
            let done = listener.eventLoop.makePromise(of: Void.self)
            quiesce.initiateShutdown(promise: done)
        }
    }
}
