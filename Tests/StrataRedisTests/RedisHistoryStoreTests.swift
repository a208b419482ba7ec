import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataRedis

/// A store on `servers` under a prefix of its own.
func redisStore(_ servers: [RedisServer], clock: (any WallClock)? = nil, compressMinSize: Int = 16) -> RedisHistoryStore {
    let shards = RedisShards(servers.map(\.configuration), prefix: "t\(RandomID.uuidString().prefix(8))", poolSize: 2)
    return RedisHistoryStore(shards: shards, clock: clock, compressMinSize: compressMinSize)
}

@Suite("RedisHistoryStore contract", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisHistoryStoreContractTests {
    @Test(arguments: HistoryStoreContract.Check.allCases)
    func contract(_ check: HistoryStoreContract.Check) async throws {
        try await withRedisServer { server in
            try await HistoryStoreContract { clock in redisStore([server], clock: clock) }.run(check)
        }
    }

    /// The same contract with channels sharded over two servers.
    @Test(arguments: HistoryStoreContract.Check.allCases)
    func shardedContract(_ check: HistoryStoreContract.Check) async throws {
        try await withRedisServer { first in
            try await withRedisServer { second in
                try await HistoryStoreContract { clock in redisStore([first, second], clock: clock) }.run(check)
            }
        }
    }
}

@Suite("RedisHistoryStore against redis-server", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisHistoryStoreTests {
    static let retention = StreamRetention(size: 10, ttlSeconds: 60, metaTTLSeconds: 3600)

    func append(_ store: RedisHistoryStore, _ channel: String, _ data: [UInt8], info: ClientInfo? = nil, tags: [String: String] = [:])
        async throws -> AppendResult
    {
        try await store.append(
            channel: channel, publication: Publication(data: data, info: info, tags: tags, time: 1_700_000_000_000),
            options: AppendOptions(retention: Self.retention), onCommit: { _ in })
    }

    @Test func recordsRoundTripWithCompressionInfoAndTags() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            let big = Array(String(repeating: "{\"score\":1,\"team\":\"home\"}", count: 200).utf8)
            let info = ClientInfo(user: "u1", client: "c1", connInfo: Array("{\"a\":1}".utf8), chanInfo: nil)
            _ = try await append(store, "rt", big, info: info, tags: ["k": "v", "z": "ü"])
            _ = try await append(store, "rt", Array("\"small\"".utf8))
            let read = try await store.history(channel: "rt", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map(\.offset) == [1, 2])
            #expect(read.publications[0].data == big)
            #expect(read.publications[0].info == info)
            #expect(read.publications[0].tags == ["k": "v", "z": "ü"])
            #expect(read.publications[0].time == 1_700_000_000_000)
            // Stored compressed: the stream entry is far smaller than the payload.
            let connection = try await RedisConnection.connect(server.configuration)
            let entries = try await connection.send("XRANGE", store.shards.keys.stream("rt"), "-", "+").elements ?? []
            let stored = entries.first?.elements?[1].elements?[1].bytes ?? []
            #expect(!stored.isEmpty && stored.count < big.count / 10)
            await connection.close()
        }
    }

    /// After SCRIPT FLUSH (or a Redis restart) EVALSHA answers NOSCRIPT and the store falls back to EVAL.
    @Test func scriptFlushFallsBackToEval() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            _ = try await append(store, "f", Array("1".utf8))
            let admin = try await RedisConnection.connect(server.configuration)
            #expect(try await admin.send("SCRIPT", "FLUSH") == .simpleString("OK"))
            let r = try await append(store, "f", Array("2".utf8))
            #expect(r.position.offset == 2)
            let read = try await store.history(channel: "f", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map(\.offset) == [1, 2])
            await admin.close()
        }
    }

    /// 2,000 concurrent appends to one channel: offsets 1…2000 once each, and `onCommit` sees them in order.
    @Test func concurrentAppendsCommitInOffsetOrder() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            let seen = Locked<[UInt64]>([])
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                for i in 0..<2000 {
                    group.addTask {
                        try await store.append(
                            channel: "busy", publication: Publication(data: Array("\(i)".utf8)),
                            options: AppendOptions(retention: StreamRetention(size: 5000, ttlSeconds: 60, metaTTLSeconds: 3600)),
                            onCommit: { r in seen.withLock { $0.append(r.position.offset) } }
                        ).position.offset
                    }
                }
                var offsets: [UInt64] = []
                for try await o in group { offsets.append(o) }
                #expect(offsets.sorted() == Array(1...2000))
            }
            #expect(seen.withLock { $0 } == Array(1...2000))
        }
    }

    /// Redis's own expiry is armed too, so idle channels do not stay in memory forever.
    @Test func keysCarryRedisTTLs() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            _ = try await append(store, "ttl", Array("1".utf8))
            let admin = try await RedisConnection.connect(server.configuration)
            let streamTTL = try await admin.send("TTL", store.shards.keys.stream("ttl")).int ?? -99
            let metaTTL = try await admin.send("TTL", store.shards.keys.meta("ttl")).int ?? -99
            #expect((1...60).contains(streamTTL))
            #expect((3500...3600).contains(metaTTL))
            await admin.close()
        }
    }

    /// Without a clock (production) the scripts keep no expiry fields: Redis's EXPIRE alone ends
    /// the entries (top and epoch stay), the idempotent result and then the stream's meta, on
    /// real time. The contract suite checks TTLs under a manual clock, which takes the other path.
    @Test func redisClockExpiresByEXPIRE() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            // The meta TTL leaves seconds of margin: a loaded CI machine may stall between the steps.
            let retention = StreamRetention(size: 10, ttlSeconds: 1, metaTTLSeconds: 4)
            func publish(_ data: String, key: String? = nil, resultTTL: Int64 = 1) async throws -> AppendResult {
                try await store.append(
                    channel: "rc", publication: Publication(data: Array(data.utf8)),
                    options: AppendOptions(retention: retention, idempotencyKey: key, idempotentResultTTLSeconds: resultTTL),
                    onCommit: { _ in })
            }
            // A long-lived result for the checks that must not race its expiry on a busy machine.
            let first = try await publish("1", key: "kept", resultTTL: 60)
            let repeated = try await publish("1", key: "kept", resultTTL: 60)
            #expect(repeated.suppressed && repeated.position == first.position)
            _ = try await publish("2", key: "brief")
            _ = try await publish("3")
            let metaTouched = ContinuousClock.now
            let admin = try await RedisConnection.connect(server.configuration)
            let fields = try await admin.send("HKEYS", store.shards.keys.meta("rc")).elements?.compactMap(\.string) ?? []
            #expect(Set(fields) == ["e", "s"])
            let resultFields = try await admin.send("HKEYS", store.shards.keys.result("rc", "kept")).elements?.compactMap(\.string) ?? []
            #expect(Set(resultFields) == ["e", "s"])
            await admin.close()

            try await Task.sleep(for: .milliseconds(1300))
            // history_ttl passed: no entries, the position goes on (the read re-arms the meta TTL).
            let expired = try await store.history(channel: "rc", filter: HistoryFilter(limit: -1), metaTTLSeconds: 4)
            #expect(expired.publications.isEmpty)
            // Unless the machine stalled past the meta TTL itself, which the last step checks anyway.
            if ContinuousClock.now - metaTouched < .milliseconds(3800) {
                #expect(expired.top == StreamPosition(offset: 3, epoch: first.position.epoch))
            }
            // The brief result's TTL passed too: the same key publishes again.
            let again = try await publish("2", key: "brief")
            #expect(!again.suppressed && again.position.offset == expired.top.offset + 1 && again.position.epoch == expired.top.epoch)

            try await Task.sleep(for: .milliseconds(4300))
            // history_meta_ttl passed with no publish or read: the stream begins again.
            let restarted = try await store.history(channel: "rc", filter: .topOnly, metaTTLSeconds: 4)
            #expect(restarted.top.offset == 0)
            #expect(restarted.top.epoch != first.position.epoch)
        }
    }

    @Test func failsWithRedisErrorWhenRedisIsDown() async throws {
        let server = try await RedisServer.start()
        let store = redisStore([server])
        _ = try await append(store, "d", Array("1".utf8))
        server.stop()
        await #expect(throws: RedisError.self) { _ = try await append(store, "d", Array("2".utf8)) }
        await #expect(throws: RedisError.self) {
            _ = try await store.history(channel: "d", filter: .topOnly, metaTTLSeconds: 3600)
        }
    }

    /// Redis lost its data (restart without persistence): the stream starts over under a new epoch.
    @Test func dataLossGivesNewEpoch() async throws {
        try await withRedisServer { server in
            let store = redisStore([server])
            let before = try await append(store, "e", Array("1".utf8))
            try await server.restart()
            // The pool notices the dead connection on first use and reconnects.
            var after: AppendResult?
            for _ in 0..<50 where after == nil {
                after = try? await append(store, "e", Array("2".utf8))
                if after == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let result = try #require(after)
            #expect(result.position.offset == 1)
            #expect(result.position.epoch != before.position.epoch)
        }
    }
}

@Suite("Redis sharding")
struct RedisShardingTests {
    @Test func jumpHashIsStableAndBalanced() {
        let channels = (0..<10_000).map { "channel:\($0)" }
        var counts = [0, 0, 0]
        for c in channels { counts[StableHash.jump(StableHash.fnv1a64(c), buckets: 3)] += 1 }
        for n in counts { #expect((3000...3700).contains(n)) }
        // Growing from 3 to 4 servers moves about a quarter of the channels, all to the new one.
        var moved = 0
        for c in channels {
            let before = StableHash.jump(StableHash.fnv1a64(c), buckets: 3)
            let after = StableHash.jump(StableHash.fnv1a64(c), buckets: 4)
            if before != after {
                moved += 1
                #expect(after == 3)
            }
        }
        #expect((2000...3000).contains(moved))
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
    }
}
