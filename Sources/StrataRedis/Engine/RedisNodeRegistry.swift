import StrataBroker
import StrataCore

/// The nodes sharing one Redis engine, on its first server: a hash of node id → record and a
/// sorted set of node id by expiry time (unix seconds of the announcing node's clock; nodes'
/// clocks are assumed within a few seconds of each other, as for presence).
package final class RedisNodeRegistry: NodeRegistry {
    let shards: RedisShards
    private let clock: any WallClock

    package init(shards: RedisShards, clock: any WallClock = SystemClock()) {
        self.shards = shards
        self.clock = clock
    }

    private var recordsKey: String { shards.keys.nodes }
    private var expiryKey: String { shards.keys.nodesExpiry }

    package func announce(nodeID: String, record: [UInt8], ttlSeconds: Int64) async throws {
        let expireAt = clock.nowSeconds() + ttlSeconds
        _ = try await shards.pipeline(
            [
                RESPCommand("HSET", arguments: [recordsKey, nodeID, record]),
                RESPCommand("ZADD", arguments: [expiryKey, expireAt, nodeID]),
            ], key: recordsKey)
    }

    package func nodes() async throws -> [String: [UInt8]] {
        let now = clock.nowSeconds()
        func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
            try await shards.pipeline([command], key: recordsKey).first ?? .null
        }
        // Forget the records of nodes that stopped announcing.
        let expired = try await send(RESPCommand("ZRANGEBYSCORE", expiryKey, "-inf", "(\(now)")).elements ?? []
        let gone = expired.compactMap(\.string)
        if !gone.isEmpty {
            _ = try await shards.pipeline(
                [
                    RESPCommand("HDEL", arguments: [recordsKey] + gone.map { $0 as any RESPArgument }),
                    RESPCommand("ZREM", arguments: [expiryKey] + gone.map { $0 as any RESPArgument }),
                ], key: recordsKey)
        }
        let live = (try await send(RESPCommand("ZRANGEBYSCORE", expiryKey, String(now), "+inf")).elements ?? []).compactMap(\.string)
        guard !live.isEmpty else { return [:] }
        let records = try await send(RESPCommand("HMGET", arguments: [recordsKey] + live.map { $0 as any RESPArgument }))
        var out: [String: [UInt8]] = [:]
        for (id, value) in zip(live, records.elements ?? []) {
            if let bytes = value.bytes { out[id] = bytes }
        }
        return out
    }
}
