import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import StrataConfig
import StrataCore
import StrataHub

/// The bidirectional WebSocket endpoint (`/connection/websocket`), JSON protocol.
///
/// Two tasks per connection: this handler reads frames and feeds the session in order; a writer
/// drains the session's outbound queue, sending each batch as one text frame, and performs the
/// close with the disconnect's code and reason.
public enum WebSocketTransport {
    public static func register(on router: Router<BasicWebSocketRequestContext>, node: Node) {
        let config = node.config
        let origins = OriginCheck(allowedOrigins: config.client.allowedOrigins)
        let messageLimit = config.websocket.messageSizeLimit
        router.ws(
            RouterPath(config.websocket.handlerPrefix),
            shouldUpgrade: { request, _ in
                guard origins.allows(request.headers[.origin]) else {
                    node.logger.info("websocket origin refused", metadata: ["origin": "\(request.headers[.origin] ?? "")"])
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
            onUpgrade: { inbound, outbound, _ in
                let session = ClientSession(node: node)
                session.startTimers()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await writeLoop(session, outbound) }
                    await readLoop(session, inbound, outbound, messageLimit: messageLimit)
                    await session.transportClosed()
                    await group.waitForAll()
                }
            }
        )
    }

    /// Reassembles messages from frames itself (rather than `messages(maxSize:)`) to keep the raw
    /// bytes: invalid UTF-8 must reach the protocol layer, which answers it with 3501.
    static func readLoop(
        _ session: ClientSession, _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, messageLimit: Int
    ) async {
        var message: [UInt8] = []
        var isText = true
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    message.removeAll(keepingCapacity: true)
                    isText = frame.opcode == .text
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
                if isText {
                    await session.handleFrame(message)
                } else {
                    session.handleUndecodableFrame()
                }
                if session.queue.isClosed { break }
            }
        } catch {
            session.node.logger.debug("websocket read ended", metadata: ["error": "\(error)"])
        }
    }

    static func writeLoop(_ session: ClientSession, _ outbound: WebSocketOutboundWriter) async {
        while true {
            switch await session.queue.next() {
            case .frame(let messages):
                var size = messages.count - 1
                for m in messages { size += m.count }
                var buffer = ByteBufferAllocator().buffer(capacity: size)
                for (i, m) in messages.enumerated() {
                    if i > 0 { buffer.writeInteger(UInt8(ascii: "\n")) }
                    buffer.writeBytes(m)
                }
                do {
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: buffer)))
                } catch {
                    session.disconnect(.writeError, dropPending: true)
                    return
                }
            case .close(let disconnect):
                if let disconnect {
                    try? await outbound.close(.unknown(disconnect.code), reason: disconnect.reason)
                }
                return
            }
        }
    }
}
