import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol
import SwiftProtobuf
import Testing

@testable import StrataUniGRPC

/// uni_grpc's service in process: a grpc-swift client calls Consume on a real HTTP/2 listener
/// (docs/transports.md, "uni_grpc"); the Python tests drive it with grpcio.
@Suite struct UniStreamServiceTests {
    @Test func peersAreCountedByTheirIPv4Address() {
        #expect(UniStreamService.peer("ipv4:10.1.2.3:5000")?.description == "10.1.2.3")
        #expect(UniStreamService.peer("ipv6:[::1]:5000") == nil && UniStreamService.peer("unix:/tmp/s") == nil)
    }

    /// The node and a listener on a free port; `body` gets a client and the node.
    func withService(_ body: (GRPCClient<HTTP2ClientTransport.Posix>, Node) async throws -> Void) async throws {
        let config = try ConfigLoader.decode(try ConfigFormats.parse(#"{"client":{"insecure":true,"ping_interval":"3s","pong_timeout":"1s"}}"#, format: .json))
        let node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [UniStreamService(sessions: SessionFactory(node: node), open: OpenStreams())])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let port = try #require(try await transport.listeningAddress.ipv4?.port)
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)) {
                try await body($0, node)
            }
            server.beginGracefulShutdown()
        }
    }

    func consume(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ request: [UInt8], onPush: @escaping @Sendable (Int, PB.Push) async throws -> Void)
        async throws -> [PB.Push]
    {
        try await client.serverStreaming(
            request: ClientRequest(message: request), descriptor: UniStreamService.consume, serializer: RawBytesSerializer(),
            deserializer: RawBytesDeserializer(), options: .defaults
        ) { response in
            var pushes: [PB.Push] = []
            for try await message in response.messages {
                let push = try PB.Push(serializedBytes: message)
                pushes.append(push)
                try await onPush(pushes.count, push)
            }
            return pushes
        }
    }

    /// The connect push (ping 25 whatever client.ping_interval says), a publication as its raw
    /// bytes, and the server's shutdown as a disconnect push before the call ends with OK.
    @Test func connectPushPublicationThenDisconnectAndOK() async throws {
        try await withService { client, node in
            var request = PB.ConnectRequest()
            request.subs["chat"] = PB.SubscribeRequest()
            let binary: [UInt8] = [0xff, 0x00, 0x7f]
            let pushes = try await consume(client, try request.serializedBytes()) { n, _ in
                if n == 1 { _ = try await node.publish(channel: "chat", data: binary, isJSON: false) }
                if n == 2 { node.shutdown() }
            }
            try #require(pushes.count == 3)
            #expect(pushes[0].connect.ping == 25 && !pushes[0].connect.session.isEmpty && pushes[0].connect.subs["chat"] != nil)
            #expect(pushes[1].channel == "chat" && pushes[1].pub.data == Data(binary))
            #expect(pushes[2].disconnect.code == 3001)
        }
    }

    /// Bytes that are not a ConnectRequest are refused before a connection opens, with the
    /// status Go's gRPC server gives a message it cannot unmarshal.
    @Test func garbageIsRefusedAsCentrifugoRefusesIt() async throws {
        try await withService { client, node in
            let error = await #expect(throws: RPCError.self) { _ = try await consume(client, [0xff, 0xff, 0xff]) { _, _ in } }
            #expect(error?.code == .internalError && error?.message.hasPrefix("grpc: failed to unmarshal the received message") == true)
            #expect(node.connectionCount == 0)
        }
    }

    /// A client that stops reading (its call cancelled) ends its connection at once: the node
    /// forgets it without waiting for a write to fail.
    @Test func aClientThatCancelsIsGoneAtOnce() async throws {
        try await withService { client, node in
            var request = PB.ConnectRequest()
            request.subs["chat"] = PB.SubscribeRequest()
            let bytes = try request.serializedBytes() as [UInt8]
            try await client.serverStreaming(
                request: ClientRequest(message: bytes), descriptor: UniStreamService.consume, serializer: RawBytesSerializer(),
                deserializer: RawBytesDeserializer(), options: .defaults
            ) { response in
                for try await _ in response.messages { return }  // the connect push, then cancel
            }
            var waited = 0
            while node.connectionCount > 0 && waited < 200 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(node.connectionCount == 0, "the connection outlived its cancelled call by \(waited * 10) ms")
        }
    }
}
