import StrataBroker
import StrataCore
import StrataHistory
import StrataRecordFormat

/// Presence in Redis, shared by every node: a hash of client id → info and a sorted set of
/// expiry times per channel (`Lua/presence_*.lua`). An entry lives `ttl` seconds unless its node
/// adds it again (every `client.presence_update_interval`), so a crashed node's clients vanish.
package final class RedisPresenceManager: PresenceManager {
    let shards: RedisShards
    let ttlSeconds: Int64
    private let clock: (any WallClock)?

    /// `clock` as for `RedisHistoryStore`: nil uses Redis's clock.
    package init(shards: RedisShards, ttlSeconds: Int64 = 60, clock: (any WallClock)? = nil) {
        self.shards = shards
        self.ttlSeconds = max(1, ttlSeconds)
        self.clock = clock
    }

    private var now: String { clock.map { String($0.nowSeconds()) } ?? "" }

    private func keys(_ channel: String) -> [String] {
        [shards.keys.presenceData(channel), shards.keys.presenceExpire(channel)]
    }

    package func add(channel: String, info: ClientInfo) async throws {
        _ = try await shards.run(
            .presenceAdd, channel: channel, keys: keys(channel), arguments: [ttlSeconds, now, info.client, ClientInfoRecord.encode(info)])
    }

    package func remove(channel: String, clientID: String) async throws {
        _ = try await shards.run(.presenceRemove, channel: channel, keys: keys(channel), arguments: [clientID])
    }

    package func presence(channel: String) async throws -> [ClientInfo] {
        let reply = try await shards.run(.presenceGet, channel: channel, keys: keys(channel), arguments: [now])
        guard let flat = reply.elements, flat.count.isMultiple(of: 2) else {
            throw RedisError(.unexpectedReply, "presence_get returned \(reply)")
        }
        var out: [ClientInfo] = []
        out.reserveCapacity(flat.count / 2)
        for i in stride(from: 1, to: flat.count, by: 2) {
            guard let record = flat[i].bytes else { throw RedisError(.unexpectedReply, "presence entry \(flat[i])") }
            out.append(try ClientInfoRecord.decode(record))
        }
        return out.sorted { $0.client < $1.client }
    }

    package func stats(channel: String) async throws -> (numClients: Int, numUsers: Int) {
        let clients = try await presence(channel: channel)
        return (clients.count, Set(clients.map(\.user)).count)
    }
}
