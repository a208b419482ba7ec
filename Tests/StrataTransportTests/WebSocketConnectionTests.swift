import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import StrataBroker
import StrataConfig
import StrataHistory
import StrataHub
import Testing

@testable import StrataTransport

/// The WebSocket connection after the upgrade, over a real socket: a server whose connections
/// get NIO's frame codec and then exactly what `WebSocketTransport.upgraded` adds, and a client
/// that writes raw (masked or not) frames and reads raw frames back.
@Suite("WebSocket connections on channel handlers")
struct WebSocketConnectionTests {
    static let config = """
        {"client":{"insecure":true,"ping_interval":"-1","queue_max_size":65536},
         "channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
        """
    static let messageLimit = 1000

    /// A server on a random port running the transport's handlers; `body` gets its port.
    func withServer<T>(
        config json: String = Self.config, writeTimeoutMillis: Int64 = 0, _ body: (Int, Node) async throws -> T
    ) async throws -> T {
        let config = try ConfigLoader.decode(try ConfigFormats.parse(json, format: .json))
        let node = try await Node(config: config, broker: LocalBroker(store: MemoryHistoryStore()), logger: Logger(label: "test"))
        let transport = WebSocketTransport(
            sessions: SessionFactory(node: node),
            options: .init(
                path: "/connection/websocket", messageSizeLimit: Self.messageLimit, allowedOrigins: [], writeTimeoutMillis: writeTimeoutMillis))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: Self.messageLimit)))
                    try pipeline.addHandler(WebSocketFrameEncoder())
                    try transport.upgraded(channel, head: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/connection/websocket"))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await body(server.localAddress?.port ?? 0, node)
            try await server.close()
            return result
        } catch {
            try? await server.close()
            throw error
        }
    }

    /// A connected raw client: frames out, bytes in.
    struct RawClient {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var received = ByteBuffer()

        static func connect(_ port: Int) async throws -> RawClient {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            return RawClient(channel: channel)
        }

        /// One frame as a client sends it: masked unless told otherwise.
        func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) async throws {
            var data = ByteBuffer(bytes: payload)
            let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([0x11, 0x22, 0x33, 0x44]) : nil
            if let key { data.webSocketMask(key) }
            var out = ByteBuffer()
            out.writeInteger(UInt8(fin ? 0x80 : 0) | UInt8(webSocketOpcode: opcode))
            let maskBit: UInt8 = masked ? 0x80 : 0
            if payload.count < 126 {
                out.writeInteger(maskBit | UInt8(payload.count))
            } else {
                out.writeInteger(maskBit | 126)
                out.writeInteger(UInt16(payload.count))
            }
            if let key { out.writeBytes(key) }
            out.writeBuffer(&data)
            try await channel.channel.writeAndFlush(out)
        }

        /// The next frame from the server (opcode, payload), or nil when the connection ended.
        mutating func frame(_ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) async throws
            -> (WebSocketOpcode, [UInt8])?
        {
            while true {
                if let frame = Self.parse(&received) { return frame }
                guard var chunk = try await inbound.next() else { return nil }
                received.writeBuffer(&chunk)
            }
        }

        /// A server frame (unmasked) off the front.
        static func parse(_ buffer: inout ByteBuffer) -> (WebSocketOpcode, [UInt8])? {
            guard buffer.readableBytes >= 2, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
                let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
            else { return nil }
            var header = 2
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let l = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
                length = Int(l)
                header = 4
            } else if length == 127 {
                guard let l = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
                length = Int(l)
                header = 10
            }
            guard buffer.readableBytes >= header + length else { return nil }
            buffer.moveReaderIndex(forwardBy: header)
            let payload = buffer.readBytes(length: length) ?? []
            return (WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F) ?? .binary, payload)
        }
    }

    func closeCode(_ payload: [UInt8]) -> UInt16? {
        payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
    }

    /// A command split over a text frame and a continuation, both masked, is one message: the
    /// connect reply comes back.
    @Test func fragmentedMaskedCommandIsAnswered() async throws {
        try await withServer { port, _ in
            var client = try await RawClient.connect(port)
            let command = Array(#"{"id":1,"connect":{}}"#.utf8)
            try await client.send(.text, Array(command[..<7]), fin: false)
            try await client.send(.continuation, Array(command[7...]))
            try await client.channel.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                let reply = try #require(try await client.frame(&frames))
                #expect(reply.0 == .text)
                #expect(String(decoding: reply.1, as: UTF8.self).hasPrefix(#"{"id":1,"connect":{"client":"#))
            }
        }
    }

    @Test func pingIsAnsweredWithItsData() async throws {
        try await withServer { port, _ in
            var client = try await RawClient.connect(port)
            try await client.send(.ping, [1, 2, 3])
            try await client.channel.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                let pong = try #require(try await client.frame(&frames))
                #expect(pong.0 == .pong)
                #expect(pong.1 == [1, 2, 3])
            }
        }
    }

    /// RFC 6455 §5.1 (1002), a message over `websocket.message_size_limit` across frames (1009),
    /// and the client's own close (echoed): each ends with a close frame and the socket's end.
    @Test(arguments: [
        ("unmasked", UInt16(1002)), ("too large", UInt16(1009)), ("client close", UInt16(1000)),
        ("continuation first", UInt16(1002)),
    ])
    func closesWithTheRightCode(_ case: String, _ expected: UInt16) async throws {
        try await withServer { port, _ in
            var client = try await RawClient.connect(port)
            switch `case` {
            case "unmasked":
                try await client.send(.text, Array(#"{"id":1,"connect":{}}"#.utf8), masked: false)
            case "too large":
                let half = [UInt8](repeating: 0x20, count: Self.messageLimit / 2 + 1)
                try await client.send(.text, half, fin: false)
                try await client.send(.continuation, half)
            case "continuation first":
                try await client.send(.continuation, [0x20])
            default:
                try await client.send(.connectionClose, [0x03, 0xE8])
            }
            try await client.channel.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                let close = try #require(try await client.frame(&frames))
                #expect(close.0 == .connectionClose)
                #expect(closeCode(close.1) == expected)
                #expect(try await client.frame(&frames) == nil, "the server closes the socket")
            }
        }
    }

    /// The session's disconnect goes out as the close frame's code and reason.
    @Test func sessionDisconnectBecomesTheCloseFrame() async throws {
        try await withServer { port, _ in
            var client = try await RawClient.connect(port)
            // A command before connect is a bad request (3501).
            try await client.send(.text, Array(#"{"id":1,"subscribe":{"channel":"a"}}"#.utf8))
            try await client.channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                let close = try #require(try await client.frame(&frames))
                #expect(close.0 == .connectionClose)
                #expect(closeCode(close.1) == 3501)
                #expect(String(decoding: close.1.dropFirst(2), as: UTF8.self) == "bad request")
            }
        }
    }

    /// Nothing of a connection outlives it: its session and everything the session holds are
    /// released once the socket closed (a retain cycle here leaked every connection's channel).
    @Test func closedConnectionIsReleased() async throws {
        try await withServer { port, node in
            var client = try await RawClient.connect(port)
            try await client.send(.text, Array(#"{"id":1,"connect":{}}"#.utf8))
            weak var session: ClientSession?
            // The queue too: the writer's wake-up held the writer, which held the queue and
            // the channel, a cycle that outlived the session.
            weak var queue: OutboundQueue?
            try await client.channel.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                _ = try #require(try await client.frame(&frames))
                session = node.connections(user: nil, client: nil).first
                queue = session?.queue
                #expect(session != nil && queue != nil)
            }
            for _ in 0..<200 where session != nil || queue != nil { try await Task.sleep(for: .milliseconds(10)) }
            #expect(session == nil)
            #expect(queue == nil)
        }
    }

    /// A client that stops reading: its frames pile up in the socket, then in its bounded queue
    /// (`client.queue_max_size`, here 64 KiB), which overflows; the connection ends with 3008
    /// after whatever was already on its way, and the rest is dropped, not buffered without end.
    @Test func slowReaderIsDisconnectedWith3008() async throws {
        try await withServer { port, node in
            let (publications, close) = try await stallAfterSubscribing(port, node) {}
            #expect(closeCode(close ?? []) == 3008)
            #expect(publications < 2_000)
        }
    }

    /// `websocket.write_timeout`: a client whose socket takes nothing for that long is dropped
    /// (the socket closes, no close frame: it could not be read) long before its queue, here
    /// 64 MiB, would overflow.
    @Test func aReaderStalledPastTheWriteTimeoutIsClosed() async throws {
        let config = """
            {"client":{"insecure":true,"ping_interval":"-1","queue_max_size":67108864},
             "channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
            """
        try await withServer(config: config, writeTimeoutMillis: 300) { port, node in
            let (publications, close) = try await stallAfterSubscribing(port, node) {
                // Not reading for well over the timeout: the server lets the connection go.
                #expect(node.connectionCount == 1)
                for _ in 0..<40 where node.connectionCount > 0 { try await Task.sleep(for: .milliseconds(100)) }
                try #require(node.connectionCount == 0, "the stalled connection is still open")
            }
            #expect(close == nil, "closed without a close frame, not with \(closeCode(close ?? []))")
            #expect(publications < 2_000)
        }
    }

    /// A client subscribes to "a" and stops reading while 2,000 publications of 8 KB (16 MB, more
    /// than the sockets hold) are published; after `whileStalled` it reads everything up to the
    /// end or a close frame: how many publications came, and the close frame's payload.
    func stallAfterSubscribing(
        _ port: Int, _ node: Node, whileStalled: () async throws -> Void
    ) async throws -> (publications: Int, close: [UInt8]?) {
        var client = try await RawClient.connect(port)
        try await client.send(.text, Array(#"{"id":1,"connect":{}}"#.utf8))
        try await client.send(.text, Array(#"{"id":2,"subscribe":{"channel":"a"}}"#.utf8))
        return try await client.channel.executeThenClose { inbound, _ in
            var frames = inbound.makeAsyncIterator()
            var replies = 0
            while replies < 2, let frame = try await client.frame(&frames) {
                replies += String(decoding: frame.1, as: UTF8.self).split(separator: "\n").count
            }
            let data = Array(#"{"text":""#.utf8) + [UInt8](repeating: 0x61, count: 8_000) + Array(#""}"#.utf8)
            for _ in 0..<2_000 { _ = try await node.publish(channel: "a", data: data) }
            try await whileStalled()
            var publications = 0
            while let frame = try await client.frame(&frames) {
                if frame.0 == .connectionClose { return (publications, frame.1) }
                publications += String(decoding: frame.1, as: UTF8.self).split(separator: "\n").count
            }
            return (publications, nil)
        }
    }

    @Test func closePayloadCutsTheReasonAtACharacterBoundary() {
        let reason = String(repeating: "é", count: 100)  // 200 bytes
        var payload = ChannelFrameWriter.closePayload(code: 3000, reason: reason)
        #expect(payload.readInteger(as: UInt16.self) == 3000)
        let text = payload.readString(length: payload.readableBytes)
        #expect(text == String(repeating: "é", count: 61))
    }
}
