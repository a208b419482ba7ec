import Logging
import StrataProtocol

/// What a transport needs of the node: a session for each connection it opens, speaking the codec
/// the connection asked for, and the node's logger. Transports see nothing else of the node.
package struct SessionFactory: Sendable {
    private let node: Node

    package init(node: Node) {
        self.node = node
    }

    package func open(codec: any ClientCodec) -> ClientSession {
        ClientSession(node: node, codec: codec)
    }

    package var logger: Logger { node.logger }
}
