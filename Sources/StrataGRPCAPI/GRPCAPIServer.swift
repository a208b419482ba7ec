import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import StrataConfig
import StrataServerAPI

/// The gRPC server API (`grpc_api`, docs/grpc-api.md): its own HTTP/2 listener on
/// `grpc_api.address`:`grpc_api.port`, plaintext, serving `CentrifugoApi`; stopped with the server.
package struct GRPCAPIServer: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let logger: Logger

    package init(config: StrataConfig.GRPCAPI, api: ServerAPI, logger: Logger) {
        let bridge = GRPCAPIBridge(api: api, key: config.key, transportErrorsByDefault: config.errorMode == "transport")
        let host = config.address.isEmpty ? "0.0.0.0" : config.address
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: config.port), transportSecurity: .plaintext,
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = config.maxReceiveMessageSize
                // No stream limit of our own, as Go's gRPC server has none: NIO's default (100)
                // would end a connection with more calls in flight with a protocol error.
                $0.http2.maxConcurrentStreams = Int(Int32.max)
            })
        self.transport = transport
        server = GRPCServer(transport: transport, services: [GRPCAPIService(bridge: bridge)])
        self.logger = logger
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let address = try await transport.listeningAddress
                logger.info("gRPC API listening", metadata: ["address": "\(address)"])
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
