import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle
import StrataConfig
import StrataCore
import StrataProxy

/// The gRPC proxies' clients (docs/proxy.md, "gRPC proxies"): one HTTP/2 connection per backend
/// endpoint, shared by every event and name that calls it, made while the node is built and run
/// as a service (their connections close after the server's, so no call is cut short).
package final class GRPCProxyClients: Service, Sendable {
    /// By `host:port|compression`.
    private let clients = Locked<[String: GRPCClient<HTTP2ClientTransport.Posix>]>([:])

    package init() {}

    /// The backend of one gRPC proxy (its endpoint already checked by the configuration).
    package func backend(for proxy: StrataConfig.Proxy) throws -> any GRPCProxyBackend {
        guard let target = proxy.grpcTarget else { throw GRPCProxyEndpointError(endpoint: proxy.endpoint) }
        let key = "\(target.host):\(target.port)|\(proxy.grpc.compression)"
        let client = try clients.withLock { clients -> GRPCClient<HTTP2ClientTransport.Posix> in
            if let client = clients[key] { return client }
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: target.host, port: target.port), transportSecurity: .plaintext,
                config: .defaults { config in
                    if proxy.grpc.compression { config.compression = .init(algorithm: .gzip, enabledAlgorithms: .gzip) }
                })
            let client = GRPCClient(transport: transport)
            clients[key] = client
            return client
        }
        return GRPCProxyClient(stub: .init(wrapping: client), compression: proxy.grpc.compression)
    }

    /// Runs every client's connections until shutdown, then closes them once their calls end.
    /// (Clients are made before the service group starts, while the node is built.)
    package func run() async throws {
        let clients = self.clients.withLock { Array($0.values) }
        guard !clients.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for client in clients { group.addTask { try await client.runConnections() } }
            }
        } onGracefulShutdown: {
            for client in clients { client.beginGracefulShutdown() }
        }
    }
}

/// A gRPC proxy endpoint that names no host and port.
struct GRPCProxyEndpointError: Error, CustomStringConvertible {
    let endpoint: String
    var description: String { "gRPC proxy endpoint \"\(endpoint)\" is not grpc://host:port or host:port" }
}
