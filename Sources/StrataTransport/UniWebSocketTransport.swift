import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// The one-way WebSocket endpoint (`/connection/uni_websocket`, transports.md §5.2): a connect
/// request in the URL (`cf_connect`) or as the first message, then bare JSON pushes, each its
/// own text message (or joined by newlines with `join_push_messages`). No subprotocol; the same
/// origin rule as the bidirectional endpoint (403). The connection is the same channel handler
/// as a bidirectional one, in its one-way mode.
package struct UniWebSocketTransport: WebSocketUpgradeEndpoint {
    package struct Options: Sendable {
        /// `uni_websocket.handler_prefix`, `message_size_limit`, `join_push_messages`,
        /// `disable_disconnect_push`, `disable_closing_handshake`.
        package var path: String
        package var messageSizeLimit: Int
        package var joinPushMessages: Bool
        package var disconnectPush: Bool
        package var closingHandshake: Bool
        /// `client.allowed_origins`, `client.ping_interval`, `client.pong_timeout` (ms).
        package var allowedOrigins: [String]
        package var pingIntervalMillis: Int64
        package var pongTimeoutMillis: Int64
        /// `uni_websocket.compression*`: nil when off.
        package var compression: MessageDeflateOptions?
        /// `write_timeout` (ms): a socket that takes nothing for this long is closed; 0 = no limit.
        package var writeTimeoutMillis: Int64 = 0

        package init(
            path: String, messageSizeLimit: Int, joinPushMessages: Bool, disconnectPush: Bool, closingHandshake: Bool,
            allowedOrigins: [String], pingIntervalMillis: Int64, pongTimeoutMillis: Int64, compression: MessageDeflateOptions? = nil,
            writeTimeoutMillis: Int64 = 0
        ) {
            self.compression = compression
            self.writeTimeoutMillis = writeTimeoutMillis
            self.path = path
            self.messageSizeLimit = messageSizeLimit
            self.joinPushMessages = joinPushMessages
            self.disconnectPush = disconnectPush
            self.closingHandshake = closingHandshake
            self.allowedOrigins = allowedOrigins
            self.pingIntervalMillis = pingIntervalMillis
            self.pongTimeoutMillis = pongTimeoutMillis
        }
    }

    private let options: Options
    private let parts: WebSocketEndpointParts

    package init(sessions: SessionFactory, options: Options) {
        self.options = options
        self.parts = WebSocketEndpointParts(sessions: sessions, allowedOrigins: options.allowedOrigins, compression: options.compression)
    }

    package var maxFrameSize: Int { options.messageSizeLimit }

    package func serves(_ path: Substring) -> Bool { path == options.path }

    package func shouldUpgrade(_ head: HTTPRequestHead, peer: SocketAddress?) -> WebSocketUpgradeDecision {
        guard serves(QueryString.split(head.uri).path) else { return .notHere }
        if !parts.sessions.admits(from: PeerAddress(peer)) { return .reject(.serviceUnavailable, body: "") }
        // A bad connect request in the URL is refused before the upgrade, as Centrifugo does.
        if let request = Self.connectRequest(head), (try? UnidirectionalJSONCodec.connectRequest(request)) == nil {
            return .reject(.badRequest, body: "invalid connect request\n")
        }
        guard parts.allowsOrigin(head) else { return .refuse(.forbidden) }
        var headers = HTTPHeaders()
        parts.addExtensionHeader(for: head, to: &headers)
        return .upgrade(headers)
    }

    /// A non-empty `cf_connect` query value.
    static func connectRequest(_ head: HTTPRequestHead) -> [UInt8]? {
        guard let query = QueryString.split(head.uri).query, let value = QueryString.value(of: "cf_connect", in: query), !value.isEmpty
        else { return nil }
        return Array(value.utf8)
    }

    package func upgraded(_ channel: any Channel, head: HTTPRequestHead) throws {
        let codec = UnidirectionalJSONCodec()
        let session = parts.sessions.openUnidirectional(
            codec: codec, transport: .uniWebSocket, lane: parts.batchers(channel.eventLoop), headers: { head.headers[$0] })
        var farewell = ChannelFrameWriter.Farewell(push: nil, closeFrame: options.closingHandshake)
        if options.disconnectPush { farewell.push = { @Sendable d in codec.disconnectPush(d) } }
        let batching: WebSocketBatching = options.joinPushMessages ? .newlineJoinedText : .messagePerTextFrame
        let deflate = parts.deflate(head, on: channel.eventLoop)
        let writer = ChannelFrameWriter(
            channel: channel, queue: session.queue, batcher: parts.batchers(channel.eventLoop), batching: batching, farewell: farewell,
            deflate: deflate, writeTimeout: ChannelFrameWriter.timeout(millis: options.writeTimeoutMillis))
        // Centrifugo's defaults when the interval or timeout is not positive: 25 s and 10 s.
        let interval = options.pingIntervalMillis > 0 ? options.pingIntervalMillis : 25_000
        let timeout = options.pongTimeoutMillis > 0 ? options.pongTimeoutMillis : 10_000
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(
                session: session, writer: writer, executor: parts.executors(channel.eventLoop), messageLimit: options.messageSizeLimit,
                logger: parts.sessions.logger,
                oneWay: .init(
                    connectRequest: Self.connectRequest(head), pingInterval: .milliseconds(interval), pongTimeout: .milliseconds(timeout)),
                deflate: deflate))
    }
}
