import Logging
import StrataConfig
import StrataCore
import StrataProtocol

/// What a transport needs of the node: a session for each connection it opens, speaking the codec
/// the connection asked for, and the node's logger. Transports see nothing else of the node.
package struct SessionFactory: Sendable {
    private let node: Node

    package init(node: Node) {
        self.node = node
    }

    /// A session for a WebSocket connection.
    package func open(codec: any ClientCodec) -> ClientSession {
        ClientSession(node: node, codec: codec, transport: .websocket)
    }

    /// A session for an emulated connection (HTTP-streaming or SSE), with a fresh session id
    /// for `/emulation` requests.
    package func openEmulated(codec: any ClientCodec, transport: TransportKind) -> ClientSession {
        ClientSession(node: node, codec: codec, style: .emulated(session: RandomID.uuidString()), transport: transport)
    }

    /// A session for a one-way connection (uni_sse, uni_http_stream, uni_websocket).
    package func openUnidirectional(codec: any ClientCodec, transport: TransportKind) -> ClientSession {
        ClientSession(node: node, codec: codec, style: .unidirectional(session: RandomID.uuidString()), transport: transport)
    }

    /// Whether a new connection from `peer` may open (`ConnectionAdmission`: the connection
    /// rate limits and `client.connection_limit`). A transport refuses one that may not before
    /// it opens a session (HTTP 503, as Centrifugo answers; clients retry later), rather than
    /// after its connect (3504, which tells a client never to reconnect).
    package func admits(from peer: PeerAddress?) -> Bool {
        node.admission.admit(from: peer, connections: node.connectionCount) == nil
    }

    /// This node's id, as emulated connections name it.
    package var nodeID: String { node.nodeID }

    package var logger: Logger { node.logger }
}
