import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The Redis servers of one engine (`engine.redis.address`), each with its pool of command
/// connections — or its Redis Clusters (`cluster_address`), each a shard of its own. A channel
/// lives on exactly one shard, chosen by a jump consistent hash of its name, so its stream, meta,
/// presence and PUB/SUB channel are always together and adding a shard moves only a share of
/// the channels. Inside a cluster, the channel's keys share a hash tag (`RedisKeys`), so they
/// share a slot and its scripts run on one master.
package final class RedisShards: Sendable {
    /// Per shard, where its commands go.
    enum Route: Sendable {
        case server(RedisConnectionPool)
        case cluster(RedisCluster)
    }

    /// Per shard, the configuration of its PUB/SUB connection (for a cluster: any of its nodes).
    package let configurations: [RedisConfiguration]
    let routes: [Route]
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
        self.routes = configurations.map {
            .server(RedisConnectionPool(configuration: $0, size: poolSize, eventLoopGroup: eventLoopGroup, logger: logger))
        }
    }

    /// Shards that are Redis Clusters: keys carry hash tags.
    package init(clusters: [RedisCluster], prefix: String) {
        precondition(!clusters.isEmpty, "at least one Redis Cluster")
        self.configurations = clusters.map(\.subscriberConfiguration)
        self.keys = RedisKeys(prefix: prefix, hashTagged: true)
        self.sentinels = clusters.map { _ in nil }
        self.routes = clusters.map { .cluster($0) }
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

    /// Sends one command about `channel` on the channel's connection (the same one while it
    /// lives, so such commands run in the order they were sent), in a cluster to the master of
    /// the channel's slot.
    func send(_ command: RESPCommand, about channel: String) async throws(RedisError) -> RESPValue {
        switch routes[index(for: channel)] {
        case .server(let pool):
            return try await pool.connection(forKey: channel).send(command).checked()
        case .cluster(let cluster):
            return try await cluster.perform(key: keys.stream(channel)) { pool, asking throws(RedisError) in
                try (await pool.connection(forKey: channel).pipeline([command], asking: asking).first ?? .null).checked()
            }
        }
    }

    /// Sends commands about keys of the first shard (the node registry's), in one write; in a
    /// cluster every key must share one hash tag. An error reply fails the whole batch, so it
    /// must be safe to send again (a cluster's redirection sends it elsewhere).
    func pipeline(_ commands: [RESPCommand], key: String) async throws(RedisError) -> [RESPValue] {
        switch routes[0] {
        case .server(let pool):
            return try await pool.pipeline(commands).map { reply throws(RedisError) in try reply.checked() }
        case .cluster(let cluster):
            return try await cluster.perform(key: key) { pool, asking throws(RedisError) in
                try await pool.connection(forKey: key).pipeline(commands, asking: asking).map { reply throws(RedisError) in try reply.checked() }
            }
        }
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
        let pool: RedisConnectionPool
        switch routes[index(for: channel)] {
        case .server(let server):
            pool = server
        case .cluster(let cluster):
            return try await cluster.perform(key: keys.first ?? channel) { pool, asking throws(RedisError) in
                let connection = ordered ? try await pool.connection(forKey: channel) : try await pool.connectionOnCallerLoop()
                do {
                    return try await script.run(on: connection, keys: keys, arguments: arguments, asking: asking, transform: transform).get()
                } catch {
                    throw Self.redisError(error, script)
                }
            }
        }
        let connection = ordered ? try await pool.connection(forKey: channel) : try await pool.connectionOnCallerLoop()
        do {
            return try await script.run(on: connection, keys: keys, arguments: arguments, transform: transform).get()
        } catch let error as RedisError {
            // A replica answers writes with READONLY: the master moved under this connection
            // (Sentinel tells of it too, but its message may come later). The next use
            // connects to wherever the master is now.
            if error.code == .serverError, error.message.hasPrefix("READONLY") { await connection.close() }
            throw error
        } catch {
            throw Self.redisError(error, script)
        }
    }

    /// A script's failure as a `RedisError` (a transform's own error becomes `.unexpectedReply`).
    private static func redisError(_ error: any Error, _ script: RedisScript) -> RedisError {
        (error as? RedisError) ?? RedisError(.unexpectedReply, "\(script.name): \(error)")
    }

    /// Connects every pool and starts watching each shard's Sentinels; throws the first
    /// failure (start-up checks that Redis is there).
    package func connectAll() async throws(RedisError) {
        for route in routes {
            switch route {
            case .server(let pool): try await pool.connectAll()
            case .cluster(let cluster): try await cluster.connectAll()
            }
        }
        try await watchSentinels()
    }

    /// Every master's pool with the address logs name it by (a cluster's: its masters as last read).
    func masterPools() -> [(address: String, pool: RedisConnectionPool)] {
        routes.flatMap { route -> [(address: String, pool: RedisConnectionPool)] in
            switch route {
            case .server(let pool):
                return [("\(pool.configuration.host):\(pool.configuration.port)", pool)]
            case .cluster(let cluster):
                return cluster.masters.compactMap { master in (try? cluster.pool(master)).map { (master.description, $0) } }
            }
        }
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
                guard let sentinel, case .server(let pool) = routes[index] else { continue }
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
        for route in routes {
            switch route {
            case .server(let pool): await pool.close()
            case .cluster(let cluster): await cluster.close()
            }
        }
    }
}
