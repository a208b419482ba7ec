import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataProtocol
import SwiftProtobuf
import Testing

@testable import StrataTransport

/// uni_grpc in process: grpc-swift's client (a real gRPC client, as grpcio is in the Python
/// tests) calls Consume on the transport's HTTP/2 listener (docs/transports.md, "uni_grpc").
@Suite struct UniGRPCTransportTests {
    static let consume = MethodDescriptor(fullyQualifiedService: "centrifugal.centrifugo.unistream.CentrifugoUniStream", method: "Consume")

    /// The node and a listener on a free port; `body` gets a client and the node.
    func withService(maxRequestSize: Int = 4 << 20, _ body: (GRPCClient<HTTP2ClientTransport.Posix>, Node) async throws -> Void) async throws {
        let config = try ConfigLoader.decode(
            try ConfigFormats.parse(#"{"client":{"insecure":true,"ping_interval":"3s","pong_timeout":"1s"}}"#, format: .json))
        let node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
        let transport = UniGRPCTransport(
            sessions: SessionFactory(node: node), options: .init(address: "127.0.0.1", port: 0, maxRequestSize: maxRequestSize))
        let listener = try await transport.bind()
        let port = try #require(listener.localAddress?.port)
        do {
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)) {
                try await body($0, node)
            }
        } catch {
            try await listener.close()
            throw error
        }
        try await listener.close()
    }

    func consume(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ request: [UInt8], onPush: @escaping @Sendable (Int, PB.Push) async throws -> Void)
        async throws -> [PB.Push]
    {
        try await client.serverStreaming(
            request: ClientRequest(message: request), descriptor: Self.consume, serializer: RawBytesSerializer(),
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

    /// A request past `uni_grpc.max_receive_message_size` is refused with Go's status.
    @Test func aRequestPastTheLimitIsResourceExhausted() async throws {
        try await withService(maxRequestSize: 16) { client, node in
            var request = PB.ConnectRequest()
            request.token = String(repeating: "t", count: 100)
            let error = await #expect(throws: RPCError.self) { _ = try await consume(client, try request.serializedBytes()) { _, _ in } }
            #expect(error?.code == .resourceExhausted && error?.message == "grpc: received message larger than max (102 vs. 16)")
            #expect(node.connectionCount == 0)
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
                request: ClientRequest(message: bytes), descriptor: Self.consume, serializer: RawBytesSerializer(),
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

/// The test client's messages as their bytes (the pushes are decoded by the test).
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
