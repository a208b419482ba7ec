import StrataBroker
import StrataCore
import StrataTesting
import Testing

@testable import StrataRedis

/// The Redis broker and presence manager against the same contracts as the local ones, each check
/// on a private redis-server, and on two sharded ones.
@Suite("Redis engine against the broker and presence contracts", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisContractTests {
    @Test(arguments: BrokerContract.Check.allCases)
    func broker(_ check: BrokerContract.Check) async throws {
        try await BrokerContract {
            let server = try await RedisServer.start()
            let broker = RedisBroker(store: RedisHistoryStore(shards: RedisShards([server.configuration], prefix: "c", poolSize: 2)))
            return (broker, { await broker.close(); server.stop() })
        }.run(check)
    }

    /// The broker with channels sharded over two servers: each channel's PUB/SUB on its own.
    @Test(arguments: BrokerContract.Check.allCases)
    func shardedBroker(_ check: BrokerContract.Check) async throws {
        try await BrokerContract {
            let first = try await RedisServer.start()
            let second = try await RedisServer.start()
            let broker = RedisBroker(
                store: RedisHistoryStore(shards: RedisShards([first.configuration, second.configuration], prefix: "c", poolSize: 2)))
            return (broker, { await broker.close(); first.stop(); second.stop() })
        }.run(check)
    }

    @Test(arguments: PresenceContract.Check.allCases)
    func shardedPresence(_ check: PresenceContract.Check) async throws {
        try await PresenceContract {
            let first = try await RedisServer.start()
            let second = try await RedisServer.start()
            let presence = RedisPresenceManager(shards: RedisShards([first.configuration, second.configuration], prefix: "p", poolSize: 1), ttlSeconds: 60)
            return (presence, { first.stop(); second.stop() })
        }.run(check)
    }

    @Test(arguments: PresenceContract.Check.allCases)
    func presence(_ check: PresenceContract.Check) async throws {
        try await PresenceContract {
            let server = try await RedisServer.start()
            let presence = RedisPresenceManager(shards: RedisShards([server.configuration], prefix: "p", poolSize: 1), ttlSeconds: 60)
            return (presence, { server.stop() })
        }.run(check)
    }
}
