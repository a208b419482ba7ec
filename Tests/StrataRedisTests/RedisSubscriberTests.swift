import StrataCore
import StrataRedis
import StrataTesting
import Testing

@Suite("RedisSubscriber against redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisSubscriberTests {
    /// Reads events until `stop` says so; fails the test if that takes longer than `limit`.
    func events(
        of subscriber: RedisSubscriber, within limit: Duration = .seconds(5), until stop: @escaping @Sendable (RedisSubscriberEvent) -> Bool
    ) async throws -> [RedisSubscriberEvent] {
        try await within(limit) {
            var seen: [RedisSubscriberEvent] = []
            for await event in subscriber.events {
                seen.append(event)
                if stop(event) { break }
            }
            return seen
        }
    }

    /// How many PINGs the server has answered (`INFO commandstats`, `cmdstat_ping:calls=N,…`).
    func pingCount(_ connection: RedisConnection) async throws -> Int {
        let info = try await connection.send("INFO", "commandstats").string ?? ""
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_ping:") }),
            let calls = line.split(separator: ",").first?.split(separator: "=").last, let count = Int(calls)
        else { return 0 }
        return count
    }

    @Test func deliversMessagesAndKeepsTheChannelSet() async throws {
        try await withRedisServer { server in
            let publisher = try await RedisConnection.connect(server.configuration)
            var configuration = server.configuration
            // Wide enough that a PONG delayed by a loaded machine (the whole suite runs at once)
            // is not taken for a dead server; CI saw a 50 ms probe close the connection.
            configuration.probeInterval = .milliseconds(250)
            let subscriber = try await RedisSubscriber.connect(configuration)
            try await subscriber.subscribe("a", "b")
            await subscriber.unsubscribe("b")
            #expect(subscriber.channels == ["a"])
            #expect(try await publisher.send("PUBLISH", "b", "dropped") == .integer(0))
            #expect(try await publisher.send("PUBLISH", "a", "hello") == .integer(1))
            // Several keepalive PINGs pass meanwhile without disturbing delivery; Redis counts them.
            let pingsBefore = try await pingCount(publisher)
            try await Task.sleep(for: .milliseconds(1_000))
            #expect(try await pingCount(publisher) - pingsBefore >= 2)
            #expect(try await publisher.send("PUBLISH", "a", "again") == .integer(1))
            let seen = try await events(of: subscriber) { $0 == .message(RedisPubSubMessage(channel: "a", payload: Array("again".utf8))) }
            #expect(
                seen == [
                    .message(RedisPubSubMessage(channel: "a", payload: Array("hello".utf8))),
                    .message(RedisPubSubMessage(channel: "a", payload: Array("again".utf8))),
                ])
            await subscriber.close()
            let rest = try await events(of: subscriber) { _ in false }
            #expect(rest == [])
            await publisher.close()
        }
    }

    /// With a direct handler, messages arrive there in publish order, also after a reconnect, and
    /// the event stream carries only the connection's state changes.
    @Test func directHandlerGetsMessagesInOrderAcrossAReconnect() async throws {
        try await withRedisServer { server in
            let received = Locked<[String]>([])
            let subscriber = try await RedisSubscriber.connect(
                server.configuration, backoff: RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            ) { message in received.withLock { $0.append(String(decoding: message.payload, as: UTF8.self)) } }
            try await subscriber.subscribe("direct")
            let publisher = try await RedisConnection.connect(server.configuration)
            for i in 0..<200 { _ = try await publisher.send("PUBLISH", "direct", "m\(i)") }
            await publisher.close()
            server.kill()
            try await server.launch()
            #expect(try await events(of: subscriber, within: .seconds(10)) { $0 == .resubscribed } == [.disconnected, .resubscribed])
            let again = try await RedisConnection.connect(server.configuration)
            _ = try await again.send("PUBLISH", "direct", "after")
            try await within(.seconds(5)) {
                while received.withLock({ $0.last }) != "after" { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(received.withLock { $0 } == (0..<200).map { "m\($0)" } + ["after"])
            await again.close()
            await subscriber.close()
        }
    }

    @Test func resubscribesEveryChannelAfterTheServerRestarts() async throws {
        try await withRedisServer { server in
            let subscriber = try await RedisSubscriber.connect(
                server.configuration, backoff: RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
            try await subscriber.subscribe("news", "sport", "gone")
            await subscriber.unsubscribe("gone")

            server.kill()
            #expect(try await events(of: subscriber) { $0 == .disconnected } == [.disconnected])
            // While reconnecting, new subscriptions are refused rather than silently deferred;
            // unsubscribing still works, because it only changes what will be resubscribed.
            let refused = await #expect(throws: RedisError.self) { try await subscriber.subscribe("later") }
            #expect(refused?.code == .connectionClosed)
            await subscriber.unsubscribe("sport")

            try await server.restart()
            #expect(try await events(of: subscriber) { $0 == .resubscribed } == [.resubscribed])
            let publisher = try await RedisConnection.connect(server.configuration)
            #expect(try await publisher.send("PUBLISH", "news", "back") == .integer(1))
            #expect(try await publisher.send("PUBLISH", "sport", "x") == .integer(0))
            #expect(try await publisher.send("PUBLISH", "gone", "x") == .integer(0))
            #expect(try await publisher.send("PUBLISH", "later", "x") == .integer(0))
            let seen = try await events(of: subscriber) { _ in true }
            #expect(seen == [.message(RedisPubSubMessage(channel: "news", payload: Array("back".utf8)))])
            await subscriber.close()
            await publisher.close()
        }
    }
}
