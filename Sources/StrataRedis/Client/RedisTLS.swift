import NIOCore
import NIOSSL

/// TLS on a Redis connection (`rediss://`, `engine.redis.tls`): the context built once at start
/// (roots, client certificate, verification) and the name the server's certificate must carry.
package struct RedisTLS: Sendable {
    package let context: NIOSSLContext
    /// SNI and the name checked in the certificate; nil for a literal IP address, which SNI
    /// cannot carry — NIOSSL then checks the certificate's IP addresses against the peer's.
    package let serverHostname: String?

    /// `serverName` empty: the address's host.
    package init(context: NIOSSLContext, serverName: String, host: String) {
        self.context = context
        let name = serverName.isEmpty ? host : serverName
        self.serverHostname = (try? SocketAddress(ipAddress: name, port: 0)) != nil ? nil : name
    }

    /// The first handler of a connection's pipeline: everything after it reads and writes
    /// plain RESP.
    func handler() throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
    }
}
