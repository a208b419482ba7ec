import Logging
import StrataConfig
import StrataCore
import StrataProtocol
import StrataProxy

/// What a transport needs of the node: a session for each connection it opens, speaking the codec
/// the connection asked for, and the node's logger. Transports see nothing else of the node.
package struct SessionFactory: Sendable {
    private let node: Node

    package init(node: Node) {
        self.node = node
    }

    /// The values of a header of the request that opens a connection (`headers` below), looked
    /// up by lower-cased name.
    package typealias HeaderLookup = (String) -> [String]

    /// A session for a WebSocket connection, whose fan-out runs on `lane` (`DeliveryLane`).
    /// `headers` reads the upgrade request's headers, of which the ones a proxy forwards are kept.
    package func open(codec: any ClientCodec, lane: (any DeliveryLane)?, headers: HeaderLookup = { _ in [] }) -> ClientSession {
        ClientSession(node: node, codec: codec, transport: .websocket, requestHeaders: forwarded(headers), lane: lane)
    }

    /// A session for an emulated connection (HTTP-streaming or SSE), with a fresh session id
    /// for `/emulation` requests.
    package func openEmulated(
        codec: any ClientCodec, transport: TransportKind, lane: (any DeliveryLane)?, headers: HeaderLookup = { _ in [] }
    ) -> ClientSession {
        ClientSession(
            node: node, codec: codec, style: .emulated(session: RandomID.uuidString()), transport: transport,
            requestHeaders: forwarded(headers), lane: lane)
    }

    /// A session for a one-way connection (uni_sse, uni_http_stream, uni_websocket).
    package func openUnidirectional(
        codec: any ClientCodec, transport: TransportKind, lane: (any DeliveryLane)?, headers: HeaderLookup = { _ in [] }
    ) -> ClientSession {
        ClientSession(
            node: node, codec: codec, style: .unidirectional(session: RandomID.uuidString()), transport: transport,
            requestHeaders: forwarded(headers), lane: lane)
    }

    /// A session for a uni_grpc stream. `metadata`: the call's (lower-case keys), of which the
    /// keys a proxy forwards (`grpc_metadata`) are kept.
    package func openUniGRPC(metadata: [StrataConfig.HeaderField], lane: (any DeliveryLane)?) -> ClientSession {
        let keys = node.proxies.forwardedMetadataKeys
        return ClientSession(
            node: node, codec: UnidirectionalProtobufCodec(), style: .unidirectional(session: RandomID.uuidString()), transport: .uniGRPC,
            requestHeaders: keys.isEmpty ? [] : metadata.filter { keys.contains($0.name) }, lane: lane)
    }

    /// The forwarded headers' values, named as Go's `http.Header` writes them (`X-Real-Ip`).
    private func forwarded(_ lookup: HeaderLookup) -> [StrataConfig.HeaderField] {
        let names = node.proxies.forwardedHeaderNames
        guard !names.isEmpty else { return [] }
        var out: [StrataConfig.HeaderField] = []
        for name in names {
            let canonical = ProxyHeaders.canonical(name)
            for value in lookup(name) { out.append(.init(name: canonical, value: value)) }
        }
        return out
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
