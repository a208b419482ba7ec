import StrataRedis
import StrataTesting
import Testing

@Suite("RedisPubSubConnection against redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisPubSubTests {
    /// The next `count` messages, or a TimedOut failure.
    func collect(_ count: Int, from subscriber: RedisPubSubConnection) async throws -> [RedisPubSubMessage] {
        try await within(.seconds(5)) {
            var received: [RedisPubSubMessage] = []
            for await message in subscriber.messages {
                received.append(message)
                if received.count == count { break }
            }
            return received
        }
    }

    @Test func deliversMessagesInPublishOrder() async throws {
        try await withRedisServer { server in
            let publisher = try await RedisConnection.connect(server.configuration)
            let subscriber = try await RedisPubSubConnection.connect(server.configuration)
            try await subscriber.subscribe("news", "sport")
            var expected: [RedisPubSubMessage] = []
            for i in 0..<100 {
                let channel = i.isMultiple(of: 2) ? "news" : "sport"
                let payload = Array("message \(i)".utf8)
                expected.append(RedisPubSubMessage(channel: channel, payload: payload))
                #expect(try await publisher.send("PUBLISH", channel, payload) == .integer(1))
            }
            #expect(try await collect(100, from: subscriber) == expected)
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func binaryPayloadsAndPingWhileSubscribed() async throws {
        try await withRedisServer { server in
            let publisher = try await RedisConnection.connect(server.configuration)
            let subscriber = try await RedisPubSubConnection.connect(server.configuration)
            try await subscriber.ping()
            try await subscriber.subscribe("bin")
            try await subscriber.ping()
            let payload = (0...255).map { UInt8($0) } + [13, 10, 0]
            _ = try await publisher.pipeline([RESPCommand("PUBLISH", "bin", payload), RESPCommand("PUBLISH", "bin", [UInt8]())])
            #expect(
                try await collect(2, from: subscriber) == [
                    RedisPubSubMessage(channel: "bin", payload: payload), RedisPubSubMessage(channel: "bin", payload: []),
                ])
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        try await withRedisServer { server in
            let publisher = try await RedisConnection.connect(server.configuration)
            let subscriber = try await RedisPubSubConnection.connect(server.configuration)
            try await subscriber.subscribe(["a", "b"])
            try await subscriber.unsubscribe("a")
            // PUBLISH returns how many subscribers got the message, so no waiting is needed.
            #expect(try await publisher.send("PUBLISH", "a", "lost") == .integer(0))
            #expect(try await publisher.send("PUBLISH", "b", "kept") == .integer(1))
            #expect(try await collect(1, from: subscriber) == [RedisPubSubMessage(channel: "b", payload: Array("kept".utf8))])
            try await subscriber.unsubscribe("b", "never-subscribed")
            #expect(try await publisher.send("PUBSUB", "NUMSUB", "a", "b") == .array([
                .bulkString(Array("a".utf8)), .integer(0), .bulkString(Array("b".utf8)), .integer(0),
            ]))
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func closingFinishesTheMessageStream() async throws {
        try await withRedisServer { server in
            let subscriber = try await RedisPubSubConnection.connect(server.configuration)
            try await subscriber.subscribe("x")
            await subscriber.close()
            let leftover = try await within(.seconds(2)) {
                var count = 0
                for await _ in subscriber.messages { count += 1 }
                return count
            }
            #expect(leftover == 0)
            let error = await #expect(throws: RedisError.self) { try await subscriber.subscribe("y") }
            #expect(error?.code == .connectionClosed)
        }
    }
}
