import NIOCore
import NIOSSL

/// TLS on a Redis connection (`rediss://`, `engine.redis.tls`): the context built once at start
/// (roots, client certificate, verification) and the name the server's certificate must carry.
package struct RedisTLS: Sendable {
    package let context: NIOSSLContext
    /// Empty: the host connected to (which Sentinel may change between connections).
    package let serverName: String

    package init(context: NIOSSLContext, serverName: String) {
        self.context = context
        self.serverName = serverName
    }

    /// The first handler of a connection's pipeline: everything after it reads and writes
    /// plain RESP. SNI and the checked name are `serverName` or `host`; none for a literal IP
    /// address, which SNI cannot carry — NIOSSL then checks the certificate's IP addresses
    /// against the peer's.
    func handler(host: String) throws -> NIOSSLClientHandler {
        let name = serverName.isEmpty ? host : serverName
        let hostname = (try? SocketAddress(ipAddress: name, port: 0)) != nil ? nil : name
        return try NIOSSLClientHandler(context: context, serverHostname: hostname)
    }
}
