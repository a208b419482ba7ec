import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// The bidirectional WebSocket endpoint (`/connection/websocket`), JSON or Protobuf protocol.
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
        /// `websocket.compression*`: nil when off.
        package var compression: MessageDeflateOptions?
        /// `write_timeout` (ms): a socket that takes nothing for this long is closed; 0 = no limit.
        package var writeTimeoutMillis: Int64 = 0

        package init(
            path: String, messageSizeLimit: Int, allowedOrigins: [String], compression: MessageDeflateOptions? = nil,
            writeTimeoutMillis: Int64 = 0
        ) {
            self.writeTimeoutMillis = writeTimeoutMillis
            self.path = path
            self.messageSizeLimit = messageSizeLimit
            self.allowedOrigins = allowedOrigins
            self.compression = compression
        }
    }

    private let options: Options
    private let parts: WebSocketEndpointParts

    package init(sessions: SessionFactory, options: Options) {
        self.options = options
        self.parts = WebSocketEndpointParts(sessions: sessions, allowedOrigins: options.allowedOrigins, compression: options.compression)
    }

    package var maxFrameSize: Int { options.messageSizeLimit }

    package func serves(_ path: Substring) -> Bool { path == options.path || path == options.path + "/" }

    package func shouldUpgrade(_ head: HTTPRequestHead, peer: SocketAddress?) -> WebSocketUpgradeDecision {
        guard serves(QueryString.split(head.uri).path) else { return .notHere }
        if !parts.sessions.admits(from: PeerAddress(peer)) { return .reject(.serviceUnavailable, body: "") }
        guard parts.allowsOrigin(head) else {
            // 403, as Centrifugo's upgrader answers a refused origin.
            parts.sessions.logger.info("websocket origin refused", metadata: ["origin": "\(head.headers.first(name: "origin") ?? "")"])
            return .refuse(.forbidden)
        }
        var headers = HTTPHeaders()
        if let subprotocol = Self.subprotocol(offered: head.headers) {
            headers.add(name: "sec-websocket-protocol", value: subprotocol)
        }
        parts.addExtensionHeader(for: head, to: &headers)
        return .upgrade(headers)
    }

    /// The first subprotocol in the client's list that Centrifugo knows; unknown names are skipped.
    static func subprotocol(offered headers: HTTPHeaders) -> String? {
        headers[canonicalForm: "sec-websocket-protocol"].lazy.map { String($0) }
            .first { $0 == "centrifuge-json" || $0 == "centrifuge-protobuf" }
    }

    /// Protobuf when the query asks for it (`format` or `cf_protocol`), whatever the subprotocol,
    /// or when the subprotocol is `centrifuge-protobuf` (transports.md §3.1).
    static func speaksProtobuf(_ head: HTTPRequestHead) -> Bool {
        let (_, query) = QueryString.split(head.uri)
        if let query, QueryString.value(of: "format", in: query) == "protobuf" || QueryString.value(of: "cf_protocol", in: query) == "protobuf" {
            return true
        }
        return subprotocol(offered: head.headers) == "centrifuge-protobuf"
    }

    package func upgraded(_ channel: any Channel, head: HTTPRequestHead) throws {
        let protobuf = Self.speaksProtobuf(head)
        let deflate = parts.deflate(head, on: channel.eventLoop)
        let session = parts.sessions.open(
            codec: protobuf ? ProtobufCodec() as any ClientCodec : JSONCodec(), lane: parts.batchers(channel.eventLoop),
            headers: { head.headers[$0] })
        let writer = ChannelFrameWriter(
            channel: channel, queue: session.queue, batcher: parts.batchers(channel.eventLoop),
            batching: protobuf ? .varintDelimitedBinary : .newlineJoinedText, deflate: deflate,
            writeTimeout: ChannelFrameWriter.timeout(millis: options.writeTimeoutMillis))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(
                session: session, writer: writer, executor: parts.executors(channel.eventLoop), messageLimit: options.messageSizeLimit,
                logger: parts.sessions.logger, deflate: deflate))
    }
}
