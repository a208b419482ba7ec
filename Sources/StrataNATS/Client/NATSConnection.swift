import Foundation
import Logging
import NIOCore
import NIOPosix

/// How to reach NATS and how long to wait for it (`broker.nats.*`).
package struct NATSConfiguration: Sendable {
    /// Tried in turn, from the one after the last that worked.
    package var servers: [NATSAddress]
    /// Limit for the TCP connect and the handshake (`dial_timeout`).
    package var connectTimeout: Duration
    /// Limit for each PONG (`write_timeout` as the answer's deadline).
    package var pongTimeout: Duration
    /// How often an idle connection PINGs; zero: never.
    package var probeInterval: Duration

    package init(
        servers: [NATSAddress], connectTimeout: Duration = .seconds(1), pongTimeout: Duration = .seconds(1), probeInterval: Duration = .seconds(5)
    ) {
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.pongTimeout = pongTimeout
        self.probeInterval = probeInterval
    }
}

/// One connection to a NATS server: `CONNECT` (with the address's credentials) and a PING
/// answered before it is handed out, then SUB, UNSUB and PUB in the order they are called.
/// Messages go to `onMessage` on the connection's event loop, in the order they arrived.
package final class NATSConnection: Sendable {
    package let address: NATSAddress
    private let channel: any Channel

    private init(address: NATSAddress, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    package static func connect(
        _ address: NATSAddress, configuration: NATSConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, onMessage: @escaping @Sendable (String, Int, ByteBuffer) -> Void
    ) async throws(NATSError) -> NATSConnection {
        let pongTimeout = TimeAmount(configuration.pongTimeout)
        let probeInterval = TimeAmount(configuration.probeInterval)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NATSDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            NATSClientHandler(pongTimeout: pongTimeout, probeInterval: probeInterval, logger: logger, onMessage: onMessage))
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            throw NATSError("connect to \(address): \(error)")
        }
        let connection = NATSConnection(address: address, channel: channel)
        do throws(NATSError) {
            try connection.write(Self.connectLine(address))
            // The PONG proves the server took CONNECT (an authorization violation closes instead).
            try await connection.ping()
        } catch {
            await connection.close()
            throw NATSError("\(address): \(error.message)")
        }
        return connection
    }

    /// `CONNECT {...}`: no +OK per command (verbose off), our own messages echoed to our own
    /// subscriptions (a node hears its own publications like everyone else's).
    static func connectLine(_ address: NATSAddress) -> String {
        var options: [String: Any] = [
            "verbose": false, "pedantic": false, "tls_required": false, "name": "strata", "lang": "swift", "version": "1", "protocol": 1,
            "echo": true,
        ]
        if !address.user.isEmpty || !address.password.isEmpty {
            options["user"] = address.user
            options["pass"] = address.password
        }
        if !address.token.isEmpty { options["auth_token"] = address.token }
        let json = (try? JSONSerialization.data(withJSONObject: options, options: [.sortedKeys])) ?? Data("{}".utf8)
        return "CONNECT \(String(decoding: json, as: UTF8.self))\r\n"
    }

    /// Writes and flushes; fails at once when the connection is gone.
    private func write(_ text: String) throws(NATSError) {
        try write(channel.allocator.buffer(string: text))
    }

    private func write(_ bytes: ByteBuffer) throws(NATSError) {
        guard channel.isActive else { throw NATSError("connection to \(address) lost") }
        channel.writeAndFlush(NATSRequest.bytes(bytes), promise: nil)
    }

    /// Subscribes `subject` as `sid`; returns once the server has taken it (a PING answered after
    /// it), so messages published from then on arrive.
    package func subscribe(_ subject: String, sid: Int) async throws(NATSError) {
        try write("SUB \(subject) \(sid)\r\n")
        try await ping()
    }

    package func unsubscribe(sid: Int) {
        try? write("UNSUB \(sid)\r\n")
    }

    /// Hands the message to the connection (NATS itself acknowledges nothing): fails only when
    /// the connection is already gone.
    package func publish(_ subject: String, payload: [UInt8]) throws(NATSError) {
        var buffer = channel.allocator.buffer(capacity: subject.utf8.count + payload.count + 32)
        buffer.writeString("PUB \(subject) \(payload.count)\r\n")
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
        try write(buffer)
    }

    /// A round trip: everything written before it has been read by the server.
    package func ping() async throws(NATSError) {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(NATSRequest.ping(promise)).whenFailure { promise.fail($0) }
        do {
            try await promise.futureResult.get()
        } catch {
            throw error as? NATSError ?? NATSError("\(error)")
        }
    }

    package var isActive: Bool { channel.isActive }

    package func close() async {
        try? await channel.close()
    }

    /// Returns once the connection is closed, by either side.
    package func closed() async {
        try? await channel.closeFuture.get()
    }
}
