import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One Redis Cluster (an `engine.redis.cluster_address` entry): which master serves each slot
/// (`CLUSTER SLOTS`, asked of any node), a connection pool per master, and commands that follow
/// the cluster's redirections (docs/redis.md, "Redis Cluster").
///
/// A command goes to the master of its key's slot. It is sent again, elsewhere, only when it
/// cannot have run: `MOVED` (the slot has another master: the map learns it and is read again),
/// `ASK` (the slot is being migrated and the key is already on the importing node: that node,
/// after `ASKING`), `TRYAGAIN` (a multi-key command during a migration), `CLUSTERDOWN`, or a
/// connect that failed (the master is gone: the map is read again until a replica has taken
/// over). A command lost in flight is not re-sent — it may have run — and fails; the map is
/// read again for the next one. Retries stop after `ioTimeout`.
package final class RedisCluster: Sendable {
    /// The addresses the map is first asked of.
    package let seeds: [RedisAddress]
    /// Credentials, TLS and timeouts of every connection; host and port are each node's.
    private let template: RedisConfiguration
    private let poolSize: Int
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    private struct State {
        var map = RedisSlotMap()
        var pools: [RedisAddress: RedisConnectionPool] = [:]
        /// A reading of the map under way: callers that need one share it.
        var refreshing: Task<Void, any Error>?
        var refreshedAt: ContinuousClock.Instant?
        /// The node the PUB/SUB connection tries next.
        var subscriberCursor = 0
        var closed = false
    }

    private let state = Mutex(State())

    package init(
        seeds: [RedisAddress], configuration: RedisConfiguration, poolSize: Int = 4,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "strata.redis")
    ) {
        precondition(!seeds.isEmpty, "at least one cluster seed")
        self.seeds = seeds
        self.template = configuration
        self.poolSize = poolSize
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// How the cluster is named in logs and errors.
    package var name: String { "cluster " + seeds.map(\.description).joined(separator: ",") }

    // MARK: The slot map

    /// Reads the slot map from the first node that answers: the known masters, then the seeds.
    /// Concurrent callers share one reading.
    package func refresh() async throws(RedisError) {
        let task = state.withLock { s -> Task<Void, any Error> in
            if let running = s.refreshing { return running }
            let task = Task { try await self.readMap() }
            s.refreshing = task
            return task
        }
        do {
            try await task.value
        } catch {
            throw RedisError.from(error)
        }
    }

    /// `refresh`, unless the map was read within the last 100 ms (a failover makes every
    /// caller ask; the cluster needs a moment to change its answer anyway).
    func refreshIfStale() async {
        let fresh = state.withLock { s in s.refreshedAt.map { ContinuousClock.now - $0 < .milliseconds(100) } ?? false }
        if !fresh { try? await refresh() }
    }

    private func readMap() async throws(RedisError) {
        defer { state.withLock { $0.refreshing = nil } }
        let known = state.withLock { $0.map.masters }
        var reasons: [String] = []
        for node in known + seeds.filter({ !known.contains($0) }) {
            do throws(RedisError) {
                let map = try await ask(node)
                guard !map.masters.isEmpty else { throw RedisError(.unexpectedReply, "no slot is served") }
                let changed = state.withLock { s in
                    defer {
                        s.map = map
                        s.refreshedAt = .now
                    }
                    return s.map != map
                }
                if changed {
                    logger.info(
                        "redis cluster slot map read",
                        metadata: ["from": "\(node)", "masters": "\(map.masters.map(\.description).joined(separator: ","))"])
                }
                return
            } catch {
                reasons.append("\(node): \(error.message)")
            }
        }
        throw RedisError(.connectFailed, "no node of the \(name) gave its slots: \(reasons.joined(separator: "; "))")
    }

    private func ask(_ node: RedisAddress) async throws(RedisError) -> RedisSlotMap {
        var configuration = configuration(for: node)
        configuration.probeInterval = .zero  // one question, then closed
        let connection = try await RedisConnection.connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        let answer: Result<RESPValue, RedisError>
        do throws(RedisError) {
            answer = .success(try await connection.send("CLUSTER", "SLOTS").checked())
        } catch {
            answer = .failure(error)
        }
        await connection.close()
        return try RedisSlotMap(clusterSlots: answer.get(), asked: node)
    }

    private func configuration(for node: RedisAddress) -> RedisConfiguration {
        var configuration = template
        configuration.host = node.host
        configuration.port = node.port
        return configuration
    }

    /// The masters of the last map read.
    package var masters: [RedisAddress] { state.withLock { $0.map.masters } }

    /// The pool of connections to `node`, made on first use. Pools of nodes that stopped being
    /// masters stay (idle, closed with the cluster): a failed-over master may come back.
    func pool(_ node: RedisAddress) throws(RedisError) -> RedisConnectionPool {
        try state.withLock { s throws(RedisError) -> RedisConnectionPool in
            guard !s.closed else { throw RedisError(.connectionClosed, "\(name) closed") }
            if let pool = s.pools[node] { return pool }
            let pool = RedisConnectionPool(configuration: configuration(for: node), size: poolSize, eventLoopGroup: eventLoopGroup, logger: logger)
            s.pools[node] = pool
            return pool
        }
    }

    /// The master serving `slot`, reading the map first when it names none.
    private func master(of slot: Int) async throws(RedisError) -> RedisAddress {
        if let master = state.withLock({ $0.map.master(of: slot) }) { return master }
        try await refresh()
        guard let master = state.withLock({ $0.map.master(of: slot) }) else {
            throw RedisError(.serverError, "CLUSTERDOWN no master serves slot \(slot) of the \(name)")
        }
        return master
    }

    // MARK: Commands

    /// Runs `attempt` on the pool of the master serving `key`'s slot, following the cluster's
    /// redirections (see the type's comment). `attempt` gets `asking: true` after an ASK: it
    /// must then send `ASKING` right before its command, on the same connection.
    func perform<T: Sendable>(
        key: String, _ attempt: (RedisConnectionPool, _ asking: Bool) async throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        let slot = RedisClusterSlots.slot(of: key)
        let deadline = ContinuousClock.now + template.ioTimeout
        var asked: RedisAddress?
        var pause = Duration.milliseconds(10)
        while true {
            let node: RedisAddress
            if let asked { node = asked } else { node = try await master(of: slot) }
            let asking = asked != nil
            asked = nil
            do throws(RedisError) {
                return try await attempt(pool(node), asking)
            } catch {
                let retry: Bool
                switch error.code {
                case .serverError:
                    if let redirection = RedisRedirection(errorMessage: error.message, asked: node) {
                        if redirection.kind == .ask {
                            asked = redirection.target
                        } else {
                            state.withLock { $0.map.set(redirection.slot...redirection.slot, to: redirection.target) }
                            Task { await self.refreshIfStale() }
                        }
                        retry = true
                        pause = .zero
                    } else if error.message.hasPrefix("TRYAGAIN") {
                        retry = true
                    } else if error.message.hasPrefix("CLUSTERDOWN") {
                        await refreshIfStale()
                        retry = true
                    } else {
                        retry = false
                    }
                case .connectFailed:
                    // Never sent: the master may be gone, and a replica about to take over.
                    await refreshIfStale()
                    retry = true
                default:
                    // Lost in flight (it may have run): not sent again, but the next command
                    // should find the slot's master as the cluster now has it.
                    if error.code == .connectionClosed || error.code == .timeout { Task { await self.refreshIfStale() } }
                    retry = false
                }
                guard retry, ContinuousClock.now < deadline else { throw error }
                if pause > .zero { try? await Task.sleep(for: pause) }
                pause = min(max(pause * 2, .milliseconds(10)), .milliseconds(200))
            }
        }
    }

    /// Reads the map and connects every master's pool; throws the first failure.
    package func connectAll() async throws(RedisError) {
        try await refresh()
        for master in masters { try await pool(master).connectAll() }
    }

    /// A PUB/SUB connection's configuration: classic PUB/SUB reaches every node of a cluster,
    /// so it connects to any node that answers, trying the masters and seeds in turn.
    package var subscriberConfiguration: RedisConfiguration {
        var configuration = template
        configuration.host = name
        configuration.port = 0
        configuration.locate = { () throws(RedisError) -> RedisAddress in self.nextSubscriberNode() }
        return configuration
    }

    private func nextSubscriberNode() -> RedisAddress {
        state.withLock { s in
            let nodes = s.map.masters + seeds.filter { !s.map.masters.contains($0) }
            defer { s.subscriberCursor += 1 }
            return nodes[s.subscriberCursor % nodes.count]
        }
    }

    package func close() async {
        let pools = state.withLock { s in
            s.closed = true
            return Array(s.pools.values)
        }
        for pool in pools { await pool.close() }
    }
}

extension RedisConnection {
    /// `pipeline`, after a cluster's ASK: each command preceded by `ASKING` in the same write
    /// (it admits only the command right after it); the replies are the commands' own.
    func pipeline(_ commands: [RESPCommand], asking: Bool) async throws(RedisError) -> [RESPValue] {
        guard asking else { return try await pipeline(commands) }
        let replies = try await pipeline(commands.flatMap { [RESPCommand("ASKING"), $0] })
        return stride(from: 1, to: replies.count, by: 2).map { replies[$0] }
    }
}
