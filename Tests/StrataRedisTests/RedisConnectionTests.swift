import StrataRedis
import StrataTesting
import Testing

@Suite("RedisConnection against redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisConnectionTests {
    @Test func ping() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            #expect(try await redis.send("PING") == .simpleString("PONG"))
            #expect(try await redis.send("PING", "hello") == .bulkString(Array("hello".utf8)))
            await redis.close()
        }
    }

    @Test func setGetDel() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            #expect(try await redis.send("SET", "k", "v") == .simpleString("OK"))
            #expect(try await redis.send("GET", "k") == .bulkString(Array("v".utf8)))
            #expect(try await redis.send("DEL", "k") == .integer(1))
            #expect(try await redis.send("GET", "k") == .null)
            #expect(try await redis.send("DEL", "k") == .integer(0))
            await redis.close()
        }
    }

    @Test func errorRepliesAreValuesAndLeaveTheConnectionUsable() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            let replies = try await redis.pipeline([
                RESPCommand("SET", "s", "text"), RESPCommand("INCR", "s"), RESPCommand("NOSUCHCOMMAND"), RESPCommand("GET", "s"),
            ])
            #expect(replies[0] == .simpleString("OK"))
            #expect(replies[1].string == nil)
            guard case .error(let message) = replies[1] else {
                Issue.record("expected an error reply, got \(replies[1])")
                return
            }
            #expect(message.hasPrefix("ERR"))
            #expect(throws: RedisError.self) { try replies[2].checked() }
            #expect(replies[3] == .bulkString(Array("text".utf8)))
            #expect(try await redis.send("PING") == .simpleString("PONG"))
            await redis.close()
        }
    }

    @Test func pipelineOfTenThousandIncrsRepliesInOrder() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            let replies = try await redis.pipeline(Array(repeating: RESPCommand("INCR", "counter"), count: 10_000))
            #expect(replies == (1...10_000).map { RESPValue.integer(Int64($0)) })
            #expect(try await redis.pipeline([]) == [])
            await redis.close()
        }
    }

    @Test func oneMebibyteValueRoundTrip() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            var rng = SplitMix(state: 99)
            let value = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(try await redis.send("SET", "big", value) == .simpleString("OK"))
            #expect(try await redis.send("STRLEN", "big") == .integer(1 << 20))
            #expect(try await redis.send("GET", "big") == .bulkString(value))
            await redis.close()
        }
    }

    @Test func concurrentSendersEachGetTheirOwnReplies() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        for i in 0..<40 {
                            let key = "t\(task):\(i)"
                            let value = "v\(task)-\(i)"
                            let set = try await redis.send("SET", key, value)
                            let get = try await redis.send("GET", key)
                            let incr = try await redis.send("INCR", "shared")
                            #expect(set == .simpleString("OK"))
                            #expect(get == .bulkString(Array(value.utf8)))
                            #expect(incr.int != nil)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await redis.send("GET", "shared").int == 2_000)
            await redis.close()
        }
    }

    @Test func evalRunsALuaScript() async throws {
        try await withRedisServer { server in
            let redis = try await RedisConnection.connect(server.configuration)
            let script = """
                local n = redis.call('INCRBY', KEYS[1], ARGV[1])
                return {n, ARGV[2], {KEYS[1]}, false}
                """
            let reply = try await redis.send("EVAL", script, 1, "lua:counter", 5, "tag")
            // Lua false becomes a null bulk string; nested tables become nested arrays.
            #expect(
                reply == .array([.integer(5), .bulkString(Array("tag".utf8)), .array([.bulkString(Array("lua:counter".utf8))]), .null]))
            let failed = try await redis.send("EVAL", "return redis.error_reply('BOOM')", 0)
            let error = #expect(throws: RedisError.self) { try failed.checked() }
            #expect(error?.code == .serverError)
            #expect(error?.message.hasSuffix("BOOM") == true)
            await redis.close()
        }
    }
}
