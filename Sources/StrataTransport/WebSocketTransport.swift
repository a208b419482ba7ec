import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import StrataConfig
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// The bidirectional WebSocket endpoint (`/connection/websocket`), JSON protocol.
///
/// Per connection, one task reads frames and feeds the session in order; the session's outbound
/// queue is drained on the channel's event loop (`ChannelFrameWriter`, each batch one text frame),
/// and a second task performs the close with the disconnect's code and reason.
package enum WebSocketTransport {
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

    package static func register(on router: Router<StrataRequestContext>, sessions: SessionFactory, options: Options) {
        let origins = OriginCheck(allowedOrigins: options.allowedOrigins)
        let messageLimit = options.messageSizeLimit
        let batchers = DrainBatchers()
        let logger = sessions.logger
        router.ws(
            RouterPath(options.path),
            shouldUpgrade: { request, _ in
                guard origins.allows(request.headers[.origin]) else {
                    logger.info("websocket origin refused", metadata: ["origin": "\(request.headers[.origin] ?? "")"])
                    return .dontUpgrade
                }
                let offered = (request.headers[.secWebSocketProtocol] ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                let wantsProtobuf =
                    offered.contains("centrifuge-protobuf") || request.uri.queryParameters["format"] == "protobuf"
                    || request.uri.queryParameters["cf_protocol"] == "protobuf"
                if wantsProtobuf {
                    // The protobuf protocol is not implemented yet: refuse rather than talk JSON to it.
                    return .dontUpgrade
                }
                var headers = HTTPFields()
                if offered.contains("centrifuge-json") { headers[.secWebSocketProtocol] = "centrifuge-json" }
                return .upgrade(headers)
            },
            onUpgrade: { inbound, outbound, context in
                // The JSON protocol (a Protobuf request was refused above).
                let session = sessions.open(codec: JSONCodec())
                let writer = ChannelFrameWriter(channel: context.requestContext.channel, queue: session.queue, batchers: batchers)
                writer.start()
                session.startTimers()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await closeWhenDone(writer, outbound) }
                    await readLoop(session, inbound, outbound, messageLimit: messageLimit, logger: logger)
                    await session.transportClosed()
                    await group.waitForAll()
                }
            }
        )
    }

    /// Reassembles messages from frames itself (rather than `messages(maxSize:)`) to keep the raw
    /// bytes: invalid UTF-8 must reach the protocol layer, which answers it with 3501.
    static func readLoop(
        _ session: ClientSession, _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, messageLimit: Int,
        logger: Logger
    ) async {
        var message: [UInt8] = []
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    message.removeAll(keepingCapacity: true)
                case .continuation:
                    break
                }
                if message.count + frame.data.readableBytes > messageLimit {
                    // RFC 6455 1009 "message too big", as Centrifugo's reader does.
                    try? await outbound.close(.messageTooLarge, reason: nil)
                    return
                }
                message.append(contentsOf: frame.data.readableBytesView)
                guard frame.fin else { continue }
                // A binary message holding JSON commands is processed too, as Centrifugo does:
                // the JSON protocol does not depend on the frame type.
                await session.handleFrame(message)
                if session.queue.isClosed { break }
            }
        } catch {
            logger.debug("websocket read ended", metadata: ["error": "\(error)"])
        }
    }

    /// Waits for the queue's close (after every frame before it went out), then closes the
    /// WebSocket with the disconnect's code and reason.
    static func closeWhenDone(_ writer: ChannelFrameWriter, _ outbound: WebSocketOutboundWriter) async {
        if let disconnect = await writer.closed() {
            try? await outbound.close(.unknown(disconnect.code), reason: disconnect.reason)
        }
    }
}
