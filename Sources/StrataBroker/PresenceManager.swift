import StrataCore

/// Who is in a channel. Entries may expire (Redis: `presence_ttl`): the node adds them again
/// every `client.presence_update_interval` while the subscription lives.
package protocol PresenceManager: Sendable {
    func add(channel: String, info: ClientInfo) async throws
    func remove(channel: String, clientID: String) async throws
    func presence(channel: String) async throws -> [ClientInfo]
    func stats(channel: String) async throws -> (numClients: Int, numUsers: Int)
}

package final class MemoryPresenceManager: PresenceManager {
    private let channels = Locked<[String: [String: ClientInfo]]>([:])

    package init() {}

    package func add(channel: String, info: ClientInfo) async throws {
        channels.withLock { $0[channel, default: [:]][info.client] = info }
    }

    package func remove(channel: String, clientID: String) async throws {
        channels.withLock { all in
            all[channel]?[clientID] = nil
            if all[channel]?.isEmpty == true { all[channel] = nil }
        }
    }

    package func presence(channel: String) async throws -> [ClientInfo] {
        channels.withLock { Array(($0[channel] ?? [:]).values) }.sorted { $0.client < $1.client }
    }

    package func stats(channel: String) async throws -> (numClients: Int, numUsers: Int) {
        channels.withLock { all in
            let clients = all[channel] ?? [:]
            return (clients.count, Set(clients.values.map(\.user)).count)
        }
    }
}
