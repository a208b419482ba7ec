import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import StrataHTTP
import StrataHub
import StrataProtocol

/// The bidirectional WebSocket endpoint (`/connection/websocket`), JSON protocol.
///
/// The upgrade is decided here (path, origin, subprotocol); after it, the connection is three
/// handlers in its channel's pipeline: NIO's frame decoder and encoder and a
/// `WebSocketConnectionHandler` with its session. The session's outbound queue is drained on
/// the channel's event loop (`ChannelFrameWriter`, each batch one text frame). No task lives
/// with the connection: one runs only while its messages wait for the session (`CommandInbox`).
package struct WebSocketTransport: WebSocketUpgradeEndpoint {
    /// The part of the configuration the endpoint owns.
    package struct Options: Sendable {
        /// `websocket.handler_prefix`.
        package var path: String
        /// `websocket.message_size_limit`: larger messages close the connection (1009).
        package var messageSizeLimit: Int
        /// `client.allowed_origins`.
        package var allowedOrigins: [String]

        package init(path: String, messageSizeLimit: Int, allowedOrigins: [String]) {
            self.path = path
            self.messageSizeLimit = messageSizeLimit
            self.allowedOrigins = allowedOrigins
        }
    }

    private let sessions: SessionFactory
    private let options: Options
    private let origins: OriginCheck
    private let batchers = PerEventLoop { DrainBatcher(eventLoop: $0) }
    private let executors = PerEventLoop { EventLoopTaskExecutor($0) }

    package init(sessions: SessionFactory, options: Options) {
        self.sessions = sessions
        self.options = options
        self.origins = OriginCheck(allowedOrigins: options.allowedOrigins)
    }

    package var maxFrameSize: Int { options.messageSizeLimit }

    package func shouldUpgrade(_ head: HTTPRequestHead) -> WebSocketUpgradeDecision {
        let (path, query) = QueryString.split(head.uri)
        guard path == options.path || path == options.path + "/" else { return .notHere }
        let origin = head.headers.first(name: "origin")
        guard origins.allows(origin) else {
            // 403, as Centrifugo's upgrader answers a refused origin.
            sessions.logger.info("websocket origin refused", metadata: ["origin": "\(origin ?? "")"])
            return .refuse(.forbidden)
        }
        let offered = head.headers[canonicalForm: "sec-websocket-protocol"].map { String($0) }
        // The protobuf protocol is not implemented yet: refuse rather than talk JSON to it.
        let asked = { (name: String) in query.flatMap { QueryString.value(of: name, in: $0) } }
        if offered.contains("centrifuge-protobuf") || asked("format") == "protobuf" || asked("cf_protocol") == "protobuf" {
            return .refuse(.badRequest)
        }
        var headers = HTTPHeaders()
        if offered.contains("centrifuge-json") { headers.add(name: "sec-websocket-protocol", value: "centrifuge-json") }
        return .upgrade(headers)
    }

    package func upgraded(_ channel: any Channel, head: HTTPRequestHead) throws {
        // The JSON protocol (a Protobuf request was refused above).
        let session = sessions.open(codec: JSONCodec())
        let writer = ChannelFrameWriter(channel: channel, queue: session.queue, batcher: batchers(channel.eventLoop))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(
                session: session, writer: writer, executor: executors(channel.eventLoop), messageLimit: options.messageSizeLimit,
                logger: sessions.logger))
    }
}
