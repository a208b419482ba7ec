import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The Redis servers of one engine (`engine.redis.address`), each with its pool of command
/// connections. A channel lives on exactly one of them, chosen by a jump consistent hash of its
/// name, so its stream, meta, presence and PUB/SUB channel are always together and adding a
/// server moves only a share of the channels.
package final class RedisShards: Sendable {
    package let configurations: [RedisConfiguration]
    let pools: [RedisConnectionPool]
    let keys: RedisKeys
    /// Per shard, its Sentinels when the master is found through them (`sentinel_address`).
    let sentinels: [RedisSentinel?]
    /// Called with a shard's index when its master changed (after the pool's connections are
    /// dropped): the broker moves that shard's PUB/SUB connection.
    private let masterSwitchHandlers = Mutex<[@Sendable (Int) async -> Void]>([])
    /// Whether the Sentinel watches run (or are being started); they start with `connectAll`
    /// or, for shards nobody connects up front (a presence manager's own Redis), on first use.
    private let watching = Mutex(false)

    package init(
        _ configurations: [RedisConfiguration], prefix: String, poolSize: Int = 4, sentinels: [RedisSentinel?] = [],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "strata.redis")
    ) {
        precondition(!configurations.isEmpty, "at least one Redis address")
        precondition(sentinels.isEmpty || sentinels.count == configurations.count, "one Sentinel set per shard, or none")
        self.configurations = configurations
        self.keys = RedisKeys(prefix: prefix)
        self.sentinels = sentinels.isEmpty ? configurations.map { _ in nil } : sentinels
        self.pools = configurations.map {
            RedisConnectionPool(configuration: $0, size: poolSize, eventLoopGroup: eventLoopGroup, logger: logger)
        }
    }

    /// `handler` runs whenever a shard's master changes (Sentinel), with the shard's index.
    package func onMasterSwitch(_ handler: @escaping @Sendable (Int) async -> Void) {
        masterSwitchHandlers.withLock { $0.append(handler) }
    }

    package var count: Int { configurations.count }

    /// The shard that owns `channel`.
    package func index(for channel: String) -> Int {
        count == 1 ? 0 : StableHash.jump(StableHash.fnv1a64(channel), buckets: count)
    }

    /// The connection for commands about `channel`: always the same one while it lives, so
    /// they run in the order they were sent.
    func connection(for channel: String) async throws(RedisError) -> RedisConnection {
        try await pools[index(for: channel)].connection(forKey: channel)
    }

    /// Runs a script on the channel's shard and returns its reply (errors thrown as `RedisError`).
    func run(
        _ script: RedisScript, channel: String, keys: [String], arguments: [any RESPArgument], ordered: Bool = true
    ) async throws(RedisError) -> RESPValue {
        try await run(script, channel: channel, keys: keys, arguments: arguments, ordered: ordered) { $0 }
    }

    /// Runs a script and turns its reply with `transform`, which runs on the connection's event
    /// loop in reply order.
    ///
    /// `ordered`: on the channel's own connection, where one channel's calls complete in the order
    /// they were sent (what lets the store report appends in offset order). Unordered calls go to
    /// a connection on the caller's event loop, so the reply resumes the caller without a thread
    /// switch; a caller that awaits each call still sees its own calls in order.
    func run<T: Sendable>(
        _ script: RedisScript, channel: String, keys: [String], arguments: [any RESPArgument], ordered: Bool = true,
        transform: @escaping @Sendable (RESPValue) throws -> T
    ) async throws(RedisError) -> T {
        if sentinels.contains(where: { $0 != nil }), !watching.withLock({ $0 }) {
            Task { try? await self.watchSentinels() }
        }
        let connection =
            ordered ? try await connection(for: channel) : try await pools[index(for: channel)].connectionOnCallerLoop()
        do {
            return try await script.run(on: connection, keys: keys, arguments: arguments, transform: transform).get()
        } catch let error as RedisError {
            // A replica answers writes with READONLY: the master moved under this connection
            // (Sentinel tells of it too, but its message may come later). The next use
            // connects to wherever the master is now.
            if error.code == .serverError, error.message.hasPrefix("READONLY") { await connection.close() }
            throw error
        } catch {
            throw RedisError(.unexpectedReply, "\(script.name): \(error)")
        }
    }

    /// Connects every pool and starts watching each shard's Sentinels; throws the first
    /// failure (start-up checks that Redis is there).
    package func connectAll() async throws(RedisError) {
        for pool in pools { try await pool.connectAll() }
        try await watchSentinels()
    }

    /// `connectAll`, then the start-up check that Redis will not evict history (logged as an
    /// error naming the server and its policy; docs/redis.md, "Memory and eviction").
    package func connectAll(checkingEvictionWith logger: Logger) async throws(RedisError) {
        try await connectAll()
        for problem in await evictionProblems() {
            logger.error("redis may evict history", metadata: ["problem": "\(problem)"])
        }
    }

    /// Starts each shard's Sentinel watch once; a failed start may be tried again.
    func watchSentinels() async throws(RedisError) {
        let start = watching.withLock { started in
            defer { started = true }
            return !started
        }
        guard start else { return }
        do throws(RedisError) {
            for (index, sentinel) in sentinels.enumerated() {
                guard let sentinel else { continue }
                let pool = pools[index]
                try await sentinel.watch { [weak self] _ in
                    Task {
                        await pool.dropConnections()
                        for handler in self?.masterSwitchHandlers.withLock({ $0 }) ?? [] { await handler(index) }
                    }
                }
            }
        } catch {
            for sentinel in sentinels { await sentinel?.close() }
            watching.withLock { $0 = false }
            throw error
        }
    }

    package func close() async {
        for sentinel in sentinels { await sentinel?.close() }
        for pool in pools { await pool.close() }
    }
}
