import NIOCore
import NIOSSL

/// TLS on a connection Strata makes to another server (Redis, NATS): the context built once at
/// start (roots, client certificate, verification; StrataServer's `ClientTLS` builds it from a
/// config section) and the name the server's certificate must carry.
package struct TLSClientSettings: Sendable {
    package let context: NIOSSLContext
    /// Empty: the host connected to (which Sentinel or a server list may change between connections).
    package let serverName: String

    package init(context: NIOSSLContext, serverName: String) {
        self.context = context
        self.serverName = serverName
    }

    /// The handler that wraps a connection to `host` in TLS. SNI and the checked name are
    /// `serverName` or `host`; none for a literal IP address, which SNI cannot carry — NIOSSL
    /// then checks the certificate's IP addresses against the peer's.
    package func handler(host: String) throws -> NIOSSLClientHandler {
        let name = serverName.isEmpty ? host : serverName
        let hostname = (try? SocketAddress(ipAddress: name, port: 0)) != nil ? nil : name
        return try NIOSSLClientHandler(context: context, serverHostname: hostname)
    }
}
