import Foundation
import Logging
import StrataBroker
import StrataCore
import StrataTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import StrataRedis

/// A master and a Debian `redis-sentinel` watching it, for a whole suite: the engine's shards
/// then find their master through the Sentinel, as `sentinel_address` makes them (failovers are
/// tested end to end, `test_redis_engine.py`).
struct SharedRedisSentinel: SuiteTrait, TestScoping {
    static let executable = ProcessInfo.processInfo.environment["REDIS_SENTINEL"] ?? "/usr/bin/redis-sentinel"
    static var isAvailable: Bool { RedisServer.isAvailable && FileManager.default.isExecutableFile(atPath: executable) }

    /// The master, and the Sentinel's address.
    @TaskLocal static var current: (master: RedisServer, sentinel: RedisAddress)?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let master = try await RedisServer.start()
        defer { master.stop() }
        let port = try RedisServer.freePort()
        let conf = master.directory.appendingPathComponent("sentinel.conf")
        try """
        port \(port)
        bind 127.0.0.1
        dir \(master.directory.path)
        logfile \(master.directory.appendingPathComponent("sentinel.log").path)
        sentinel monitor mymaster 127.0.0.1 \(master.port) 1
        sentinel down-after-milliseconds mymaster 5000

        """.write(to: conf, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [conf.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let sentinel = RedisAddress(host: "127.0.0.1", port: port)
        // Ready once it names the master.
        let probe = RedisSentinel(sentinels: [sentinel], masterName: "mymaster", configuration: RedisConfiguration(), logger: .init(label: "test"))
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? await probe.locateMaster()) != RedisAddress(host: "127.0.0.1", port: master.port) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw RedisServer.StartFailure(description: "redis-sentinel on \(port) did not name the master")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Self.$current.withValue((master, sentinel)) { try await function() }
    }

    /// Shards whose master is asked of the suite's Sentinel, under a prefix of their own: how
    /// `StrataServer.redisShards` builds them from `sentinel_address`.
    static func shards() throws -> RedisShards {
        let (master, address) = try #require(current, "the suite needs the .sharedRedisSentinel trait")
        let sentinel = RedisSentinel(sentinels: [address], masterName: "mymaster", configuration: RedisConfiguration(), logger: .init(label: "test"))
        var configuration = master.configuration
        configuration.host = "sentinel master mymaster"
        configuration.locate = { () throws(RedisError) -> RedisAddress in try await sentinel.locateMaster() }
        configuration.requireMaster = true
        return RedisShards([configuration], prefix: "s\(RandomID.uuidString().prefix(8))", poolSize: 2, sentinels: [sentinel])
    }
}

extension Trait where Self == SharedRedisSentinel {
    static var sharedRedisSentinel: Self { SharedRedisSentinel() }
}

/// The history store, broker and presence contracts with the master found through Sentinel.
@Suite(
    "Redis engine contracts through Sentinel", .enabled(if: SharedRedisSentinel.isAvailable, "redis-server or redis-sentinel is not installed"),
    .sharedRedisSentinel)
struct RedisSentinelContractTests {
    @Test(arguments: HistoryStoreContract.Check.allCases)
    func historyContract(_ check: HistoryStoreContract.Check) async throws {
        try await HistoryStoreContract { clock in RedisHistoryStore(shards: try SharedRedisSentinel.shards(), clock: clock, compressMinSize: 16) }
            .run(check)
    }

    @Test(arguments: BrokerContract.Check.allCases)
    func brokerContract(_ check: BrokerContract.Check) async throws {
        try await BrokerContract {
            let broker = RedisBroker(store: RedisHistoryStore(shards: try SharedRedisSentinel.shards()))
            return (broker, { await broker.close() })
        }.run(check)
    }

    @Test(arguments: PresenceContract.Check.allCases)
    func presenceContract(_ check: PresenceContract.Check) async throws {
        try await PresenceContract {
            let presence = RedisPresenceManager(shards: try SharedRedisSentinel.shards(), ttlSeconds: 60)
            return (presence, { await presence.shards.close() })
        }.run(check)
    }
}
