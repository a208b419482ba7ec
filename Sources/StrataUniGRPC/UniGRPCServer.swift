import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import StrataConfig
import StrataHub

/// uni_grpc (docs/transports.md): its own HTTP/2 listener on `uni_grpc.address`:`uni_grpc.port`,
/// plaintext, serving `CentrifugoUniStream`. HTTP/2 pings every 25 s (5 s to answer), and
/// clients may ping at most every 5 s, as Centrifugo's server is set up.
package struct UniGRPCServer: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let open = OpenStreams()
    private let logger: Logger

    package init(config: StrataConfig.UniGRPC, sessions: SessionFactory) {
        let host = config.address.isEmpty ? "0.0.0.0" : config.address
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: config.port), transportSecurity: .plaintext,
            config: .defaults {
                // The service refuses a request past the limit with Go's status; only one far
                // larger is reset by the transport unread.
                $0.rpc.maxRequestPayloadSize = config.maxReceiveMessageSize + 64 * 1024
                // No stream limit of our own, as Go's gRPC server has none: NIO's default (100)
                // would end a connection that multiplexes more streams (one client process's
                // channels share a connection) with a protocol error.
                $0.http2.maxConcurrentStreams = Self.maxStreamsPerConnection
                // A push is one message on one stream: there is nothing to coalesce on its
                // connection, and delaying each flush by a timer costs more than the write.
                $0.connection.flushCoalescing = nil
                $0.connection.keepalive = .init(
                    time: .seconds(25), timeout: .seconds(5),
                    clientBehavior: .init(minPingIntervalWithoutCalls: .seconds(5), allowWithoutCalls: false))
            })
        self.transport = transport
        server = GRPCServer(
            transport: transport, services: [UniStreamService(sessions: sessions, open: open, maxRequestSize: config.maxReceiveMessageSize)])
        logger = sessions.logger
    }

    /// Go's default is 2^32 − 1; HTTP/2 settings carry 31 bits.
    static let maxStreamsPerConnection = Int(Int32.max)

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let address = try await transport.listeningAddress
                logger.info("uni_grpc listening", metadata: ["address": "\(address)"])
            }
        } onGracefulShutdown: {
            // Open streams never end by themselves: each is told 3001 and ends, then the server stops.
            open.shutDown()
            server.beginGracefulShutdown()
        }
    }
}
