import Foundation
import StrataRedis
import Testing

/// A Redis Cluster of a few masters (no replicas) made of private redis-servers in cluster mode:
/// each takes an equal share of the 16384 slots, then they MEET. Fast (well under a second), so
/// the redirection tests can move slots about on a cluster of their own. Failovers need
/// replicas and are tested end to end (`Tests/Integration/test_redis_cluster.py`).
final class RedisTestCluster: Sendable {
    let servers: [RedisServer]

    private init(servers: [RedisServer]) { self.servers = servers }

    var seeds: [RedisAddress] { servers.map { RedisAddress(host: "127.0.0.1", port: $0.port) } }

    /// A cluster-aware client configuration template (host and port are each node's).
    var configuration: RedisConfiguration { servers[0].configuration }

    static func start(masters: Int = 2) async throws -> RedisTestCluster {
        var servers: [RedisServer] = []
        do {
            for _ in 0..<masters {
                servers.append(
                    try await RedisServer.start { directory in
                        // The bus port is the client port + 10000 unless given: a free port of its own.
                        [
                            "--cluster-enabled", "yes", "--cluster-config-file", directory.appendingPathComponent("nodes.conf").path,
                            "--cluster-node-timeout", "2000", "--cluster-port", "\(try RedisServer.freePort())",
                        ]
                    })
            }
            let cluster = RedisTestCluster(servers: servers)
            let share = 16384 / masters
            for (index, server) in servers.enumerated() {
                let last = index == masters - 1 ? 16383 : (index + 1) * share - 1
                _ = try await cluster.command(server, "CLUSTER", "ADDSLOTSRANGE", "\(index * share)", "\(last)").checked()
            }
            for server in servers.dropFirst() {
                _ = try await cluster.command(servers[0], "CLUSTER", "MEET", "127.0.0.1", "\(server.port)", try await cluster.busPort(server))
                    .checked()
            }
            try await cluster.waitUntil("every node sees the whole cluster") {
                for server in servers {
                    let info = try await cluster.command(server, "CLUSTER", "INFO").string ?? ""
                    guard info.contains("cluster_state:ok"), info.contains("cluster_known_nodes:\(masters)") else { return false }
                }
                return true
            }
            return cluster
        } catch {
            for server in servers { server.stop() }
            throw error
        }
    }

    func stop() {
        for server in servers { server.stop() }
    }

    /// One command on a fresh connection to `server`.
    func command(_ server: RedisServer, _ name: String, _ arguments: String...) async throws -> RESPValue {
        try await command(server, name, arguments: arguments)
    }

    func command(_ server: RedisServer, _ name: String, arguments: [String]) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(server.configuration)
        defer { Task { await connection.close() } }
        return try await connection.send(RESPCommand(name, arguments: arguments.map { $0 as any RESPArgument }))
    }

    func nodeID(_ server: RedisServer) async throws -> String {
        try await command(server, "CLUSTER", "MYID").string ?? ""
    }

    /// The port of `server`'s cluster bus (what MEET needs), from `CONFIG GET cluster-port`.
    private func busPort(_ server: RedisServer) async throws -> String {
        let reply = try await command(server, "CONFIG", "GET", "cluster-port").elements ?? []
        return reply.count == 2 ? reply[1].string ?? "" : ""
    }

    /// The server that serves `slot` now.
    func owner(of slot: Int) async throws -> RedisServer {
        for server in servers {
            let id = try await nodeID(server)
            let ranges = try await command(server, "CLUSTER", "SLOTS").elements ?? []
            for range in ranges {
                guard let parts = range.elements, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                    (start...end).contains(Int64(slot)), let node = parts[2].elements, node.count >= 3
                else { continue }
                if node[2].string == id { return server }
            }
        }
        throw RedisServer.StartFailure(description: "no server owns slot \(slot)")
    }

    /// The first step of a resharding (what `redis-cli --cluster reshard` does): the target
    /// imports `slot`, the source migrates it. Keys then move one by one with `migrate`.
    func beginMigration(of slot: Int, from source: RedisServer, to target: RedisServer) async throws {
        _ = try await command(target, "CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", try await nodeID(source)).checked()
        _ = try await command(source, "CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", try await nodeID(target)).checked()
    }

    /// Moves `keys` from `source` to `target` (MIGRATE, the keys' data and TTLs).
    func migrate(_ keys: [String], from source: RedisServer, to target: RedisServer) async throws {
        guard !keys.isEmpty else { return }
        _ = try await command(source, "MIGRATE", arguments: ["127.0.0.1", "\(target.port)", "", "0", "5000", "KEYS"] + keys).checked()
    }

    /// The last step: every node records `target` as the slot's master.
    func endMigration(of slot: Int, to target: RedisServer) async throws {
        let id = try await nodeID(target)
        for server in servers { _ = try await command(server, "CLUSTER", "SETSLOT", "\(slot)", "NODE", id).checked() }
    }

    /// The keys in `slot` on `server`.
    func keys(in slot: Int, on server: RedisServer) async throws -> [String] {
        (try await command(server, "CLUSTER", "GETKEYSINSLOT", "\(slot)", "1000").elements ?? []).compactMap(\.string)
    }

    /// A whole resharding of `slot` to `target`.
    func move(slot: Int, to target: RedisServer) async throws {
        let source = try await owner(of: slot)
        guard source !== target else { return }
        try await beginMigration(of: slot, from: source, to: target)
        for key in try await keys(in: slot, on: source) { try await migrate([key], from: source, to: target) }
        try await endMigration(of: slot, to: target)
    }

    func waitUntil(_ what: String, within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisServer.StartFailure(description: "timed out waiting until \(what)")
    }
}

/// Runs `body` with a fresh cluster and stops it afterwards, whatever happens.
func withRedisCluster<T>(masters: Int = 2, _ body: (RedisTestCluster) async throws -> T) async throws -> T {
    let cluster = try await RedisTestCluster.start(masters: masters)
    defer { cluster.stop() }
    return try await body(cluster)
}

/// One cluster for a whole suite (`@Suite(.sharedRedisCluster)`), stopped after its last test;
/// tests reach it as `SharedRedisCluster.current` and keep apart by key prefix. For suites with
/// many short tests, which with a cluster each would start dozens of servers at once.
struct SharedRedisCluster: SuiteTrait, TestScoping {
    @TaskLocal static var current: RedisTestCluster?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let cluster = try await RedisTestCluster.start()
        defer { cluster.stop() }
        try await Self.$current.withValue(cluster) { try await function() }
    }

    /// The suite's cluster; fails the test outside a suite with the trait.
    static func cluster() throws -> RedisTestCluster {
        try #require(current, "the suite needs the .sharedRedisCluster trait")
    }
}

extension Trait where Self == SharedRedisCluster {
    static var sharedRedisCluster: Self { SharedRedisCluster() }
}
