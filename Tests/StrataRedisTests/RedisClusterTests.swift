import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataRedis

/// How keys are placed and redirections read: no server needed.
@Suite("Redis Cluster slots and redirections")
struct RedisClusterSlotTests {
    /// Redis Cluster's specification: CRC16("123456789") = 0x31C3; slots of plain and tagged keys.
    @Test func slotsMatchTheSpecification() {
        #expect(RedisClusterSlots.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(RedisClusterSlots.slot(of: "123456789") == 12739)
        #expect(RedisClusterSlots.slot(of: "foo") == 12182)
        #expect(RedisClusterSlots.slot(of: "{user1000}.following") == RedisClusterSlots.slot(of: "{user1000}.followers"))
        // An empty tag: the whole key is hashed.
        #expect(RedisClusterSlots.slot(of: "foo{}{bar}") == Int(RedisClusterSlots.crc16(Array("foo{}{bar}".utf8)[...]) % 16384))
        #expect(RedisClusterSlots.slot(of: "foo{{bar}}zap") == RedisClusterSlots.slot(of: "{bar"))
        #expect(RedisClusterSlots.slot(of: "foo{bar}{zap}") == RedisClusterSlots.slot(of: "bar"))
    }

    /// Every key of a channel lands in one slot, whatever the channel's name holds.
    @Test(arguments: ["news", "chat:room{1}", "a}b", "{", "ü{x", "$user:42#1,2"])
    func aChannelsKeysShareTheirSlot(_ channel: String) {
        let keys = RedisKeys(prefix: "centrifugo", hashTagged: true)
        let all =
            [keys.stream(channel), keys.meta(channel), keys.result(channel, "k"), keys.pubSub(channel), keys.presenceData(channel),
             keys.presenceExpire(channel)] + keys.keyed(channel)
        #expect(Set(all.map(RedisClusterSlots.slot(of:))).count == 1)
        #expect(keys.channel(fromPubSub: keys.pubSub(channel)) == channel)
        #expect(keys.stream(channel) == "centrifugo.stream.{\(channel)}")
    }

    @Test func slotMapFromClusterSlots() throws {
        let asked = RedisAddress(host: "10.0.0.1", port: 7000)
        func node(_ host: String, _ port: Int64) -> RESPValue { .array([.bulkString(Array(host.utf8)), .integer(port), .bulkString(Array("id".utf8))]) }
        let reply = RESPValue.array([
            .array([.integer(0), .integer(8191), node("10.0.0.1", 7000), node("10.0.0.2", 7003)]),
            .array([.integer(8192), .integer(16383), node("", 7001)]),
        ])
        let map = try RedisSlotMap(clusterSlots: reply, asked: asked)
        #expect(map.master(of: 0) == asked)
        #expect(map.master(of: 8191) == asked)
        #expect(map.master(of: 8192) == RedisAddress(host: "10.0.0.1", port: 7001))
        #expect(map.isComplete)
        #expect(map.masters.count == 2)
        #expect(throws: RedisError.self) { try RedisSlotMap(clusterSlots: .array([.array([.integer(5), .integer(1), node("h", 1)])]), asked: asked) }
        #expect(throws: RedisError.self) { try RedisSlotMap(clusterSlots: .error("ERR This instance has cluster support disabled"), asked: asked) }
        let partial = try RedisSlotMap(clusterSlots: .array([.array([.integer(0), .integer(99), node("h", 1)])]), asked: asked)
        #expect(!partial.isComplete)
        #expect(partial.master(of: 100) == nil)
    }

    @Test func redirectionsAreRead() {
        let asked = RedisAddress(host: "10.0.0.1", port: 7000)
        let moved = RedisRedirection(errorMessage: "MOVED 3999 127.0.0.1:6381", asked: asked)
        #expect(moved?.kind == .moved)
        #expect(moved?.slot == 3999)
        #expect(moved?.target == RedisAddress(host: "127.0.0.1", port: 6381))
        #expect(RedisRedirection(errorMessage: "ASK 1 :6380", asked: asked)?.target == RedisAddress(host: "10.0.0.1", port: 6380))
        #expect(RedisRedirection(errorMessage: "ASK 1 :6380", asked: asked)?.kind == .ask)
        #expect(RedisRedirection(errorMessage: "MOVED 16384 h:1", asked: asked) == nil)
        #expect(RedisRedirection(errorMessage: "ERR MOVED", asked: asked) == nil)
        #expect(RedisRedirection(errorMessage: "TRYAGAIN Multiple keys request during rehashing of slot", asked: asked) == nil)
    }
}

/// Shards on one cluster, under a key prefix of their own.
func clusterShards(_ cluster: RedisTestCluster, prefix: String = "t\(RandomID.uuidString().prefix(8))") -> RedisShards {
    RedisShards(clusters: [RedisCluster(seeds: cluster.seeds, configuration: cluster.configuration, poolSize: 2)], prefix: prefix)
}

/// The history store, broker and presence contracts on a Redis Cluster of two masters (one for
/// the suite; each check under its own prefix, its channels spread over both masters).
@Suite(
    "Redis engine contracts on a Redis Cluster", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"),
    .sharedRedisCluster)
struct RedisClusterContractTests {
    @Test(arguments: HistoryStoreContract.Check.allCases)
    func historyContract(_ check: HistoryStoreContract.Check) async throws {
        let cluster = try SharedRedisCluster.cluster()
        try await HistoryStoreContract { clock in RedisHistoryStore(shards: clusterShards(cluster), clock: clock, compressMinSize: 16) }
            .run(check)
    }

    @Test(arguments: BrokerContract.Check.allCases)
    func brokerContract(_ check: BrokerContract.Check) async throws {
        let cluster = try SharedRedisCluster.cluster()
        try await BrokerContract {
            let broker = RedisBroker(store: RedisHistoryStore(shards: clusterShards(cluster)))
            return (broker, { await broker.close() })
        }.run(check)
    }

    @Test(arguments: PresenceContract.Check.allCases)
    func presenceContract(_ check: PresenceContract.Check) async throws {
        let cluster = try SharedRedisCluster.cluster()
        try await PresenceContract {
            let presence = RedisPresenceManager(shards: clusterShards(cluster), ttlSeconds: 60)
            return (presence, { await presence.shards.close() })
        }.run(check)
    }
}

/// The Redis engine on a real cluster of redis-servers (cluster mode, two masters): the slot a
/// key hashes to as Redis itself says, and commands that follow a resharding (MOVED) and a
/// migration under way (ASK, TRYAGAIN). Each test has a cluster of its own: it moves slots.
@Suite("Redis engine on a Redis Cluster", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisClusterTests {
    func shards(_ cluster: RedisTestCluster) -> RedisShards { clusterShards(cluster) }

    /// Our slots against `CLUSTER KEYSLOT`, for random keys full of braces.
    @Test func slotsAgreeWithRedis() async throws {
        try await withRedisCluster(masters: 1) { cluster in
            var random = SplitMix(state: 19)
            let alphabet = Array("ab{}:.ü1")
            for _ in 0..<300 {
                let key = String((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
                let slot = try await cluster.command(cluster.servers[0], "CLUSTER", "KEYSLOT", key).int
                #expect(slot == Int64(RedisClusterSlots.slot(of: key)), "key \(key)")
            }
        }
    }

    static let retention = StreamRetention(size: 100, ttlSeconds: 60, metaTTLSeconds: 3600)

    func append(_ store: RedisHistoryStore, _ channel: String, _ text: String) async throws -> AppendResult {
        try await store.append(
            channel: channel, publication: Publication(data: Array(text.utf8)), options: AppendOptions(retention: Self.retention),
            onCommit: { _ in })
    }

    /// A channel's slot moves to the other master between two appends: the store's map is stale,
    /// the old master answers MOVED, the append is sent to the new one and the stream goes on.
    @Test func aReshardedChannelIsFollowed() async throws {
        try await withRedisCluster { cluster in
            let shards = shards(cluster)
            let store = RedisHistoryStore(shards: shards, compressMinSize: 16)
            let first = try await append(store, "moving", "1")
            let slot = RedisClusterSlots.slot(of: shards.keys.stream("moving"))
            let source = try await cluster.owner(of: slot)
            let target = try #require(cluster.servers.first { $0 !== source })
            try await cluster.move(slot: slot, to: target)
            #expect(try await cluster.keys(in: slot, on: source).isEmpty)
            let second = try await append(store, "moving", "2")
            #expect(second.position == StreamPosition(offset: 2, epoch: first.position.epoch))
            let read = try await store.history(channel: "moving", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map(\.offset) == [1, 2])
            #expect(try await cluster.keys(in: slot, on: target).contains(shards.keys.stream("moving")))
            await shards.close()
        }
    }

    /// During a migration, a key already on the importing node is answered with ASK; the command
    /// goes there after ASKING. The registry's commands each touch one key, so half of its keys
    /// moved is enough.
    @Test func aKeyAlreadyMigratedIsAskedWhereItIs() async throws {
        try await withRedisCluster { cluster in
            let shards = shards(cluster)
            let registry = RedisNodeRegistry(shards: shards)
            try await registry.announce(nodeID: "n1", record: [1, 2, 3], ttlSeconds: 60)
            let slot = RedisClusterSlots.slot(of: shards.keys.nodes)
            let source = try await cluster.owner(of: slot)
            let target = try #require(cluster.servers.first { $0 !== source })
            try await cluster.beginMigration(of: slot, from: source, to: target)
            try await cluster.migrate([shards.keys.nodes], from: source, to: target)
            #expect(try await registry.nodes() == ["n1": [1, 2, 3]])
            try await cluster.migrate([shards.keys.nodesExpiry], from: source, to: target)
            try await cluster.endMigration(of: slot, to: target)
            #expect(try await registry.nodes() == ["n1": [1, 2, 3]])
            await shards.close()
        }
    }

    /// A script whose keys are split by a migration gets TRYAGAIN: it waits and is sent again,
    /// and completes once the migration has ended — in order, with the next offset.
    @Test func anAppendDuringAMigrationWaitsForItsEnd() async throws {
        try await withRedisCluster { cluster in
            let shards = shards(cluster)
            let store = RedisHistoryStore(shards: shards, compressMinSize: 16)
            _ = try await append(store, "split", "1")
            let slot = RedisClusterSlots.slot(of: shards.keys.stream("split"))
            let source = try await cluster.owner(of: slot)
            let target = try #require(cluster.servers.first { $0 !== source })
            try await cluster.beginMigration(of: slot, from: source, to: target)
            try await cluster.migrate([shards.keys.stream("split")], from: source, to: target)
            let pending = Task { try await append(store, "split", "2") }
            try await Task.sleep(for: .milliseconds(300))
            for key in try await cluster.keys(in: slot, on: source) { try await cluster.migrate([key], from: source, to: target) }
            try await cluster.endMigration(of: slot, to: target)
            let second = try await pending.value
            #expect(second.position.offset == 2)
            let read = try await store.history(channel: "split", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map { String(decoding: $0.data, as: UTF8.self) } == ["1", "2"])
            await shards.close()
        }
    }

    /// Channels spread over both masters, and each master holds exactly its slots' channels.
    @Test func channelsSpreadOverTheMasters() async throws {
        try await withRedisCluster { cluster in
            let shards = shards(cluster)
            let store = RedisHistoryStore(shards: shards, compressMinSize: 16)
            let channels = (0..<20).map { "spread\($0)" }
            for channel in channels { _ = try await append(store, channel, "x") }
            var holders: [Int: Int] = [:]
            for channel in channels {
                let slot = RedisClusterSlots.slot(of: shards.keys.stream(channel))
                let owner = try await cluster.owner(of: slot)
                #expect(try await cluster.keys(in: slot, on: owner).contains(shards.keys.stream(channel)))
                holders[owner.port, default: 0] += 1
            }
            #expect(holders.count == 2)
            await shards.close()
        }
    }
}
