import Foundation
import Logging
import NIOCore
import NIOPosix
import StrataTLS

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
    /// Set: every connection upgrades to TLS after the server's INFO, as NATS does it
    /// (`broker.nats.tls`, `tls://`).
    package var tls: TLSClientSettings?

    package init(
        servers: [NATSAddress], connectTimeout: Duration = .seconds(1), pongTimeout: Duration = .seconds(1), probeInterval: Duration = .seconds(5),
        tls: TLSClientSettings? = nil
    ) {
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.pongTimeout = pongTimeout
        self.probeInterval = probeInterval
        self.tls = tls
    }
}

/// One connection to a NATS server: the server's INFO, TLS when configured (NATS upgrades after
/// INFO, in plain text until then), `CONNECT` (with the address's credentials) and a PING
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
        let group = eventLoopGroup.next()
        let info = group.makePromise(of: String.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NATSDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            NATSClientHandler(pongTimeout: pongTimeout, probeInterval: probeInterval, info: info, logger: logger, onMessage: onMessage))
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            info.fail(NATSError("not connected"))
            throw NATSError("connect to \(address): \(error)")
        }
        let connection = NATSConnection(address: address, channel: channel)
        do throws(NATSError) {
            let deadline = group.scheduleTask(in: TimeAmount(configuration.connectTimeout)) {
                info.fail(NATSError("no INFO within \(configuration.connectTimeout)"))
            }
            let json: String
            do {
                json = try await info.futureResult.get()
            } catch {
                throw error as? NATSError ?? NATSError("\(error)")
            }
            deadline.cancel()
            let required = json.replacingOccurrences(of: " ", with: "").contains("\"tls_required\":true")
            if let tls = configuration.tls {
                // Nothing else arrives before the client's handshake: the decoder holds no bytes.
                do {
                    try await channel.pipeline.addHandler(try tls.handler(host: address.host), position: .first).get()
                } catch {
                    throw NATSError("TLS: \(error)")
                }
            } else if required {
                throw NATSError("the server requires TLS (broker.nats.tls)")
            }
            try connection.write(Self.connectLine(address, tls: configuration.tls != nil))
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
    static func connectLine(_ address: NATSAddress, tls: Bool) -> String {
        var options: [String: Any] = [
            "verbose": false, "pedantic": false, "tls_required": tls, "name": "strata", "lang": "swift", "version": "1", "protocol": 1,
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
