import StrataBroker
import StrataCore
import Testing

/// The behaviour every `PresenceManager` must have: the memory and the Redis implementations run
/// the same checks (expiry is the Redis one's own test: the memory one never expires).
package struct PresenceContract: Sendable {
    package typealias Made = (presence: any PresenceManager, close: @Sendable () async -> Void)
    package let makePresence: @Sendable () async throws -> Made

    package init(makePresence: @escaping @Sendable () async throws -> Made) {
        self.makePresence = makePresence
    }

    /// Entries are listed by client id, with their infos byte for byte; stats count clients and
    /// distinct users.
    package func listsAndCounts() async throws {
        let (presence, close) = try await makePresence()
        let c1 = ClientInfo(user: "u1", client: "c1", connInfo: Array(#"{"n": 1}"#.utf8), chanInfo: Array("x".utf8))
        try await presence.add(channel: "room", info: ClientInfo(user: "u2", client: "c3"))
        try await presence.add(channel: "room", info: c1)
        try await presence.add(channel: "room", info: ClientInfo(user: "u1", client: "c2"))
        let listed = try await presence.presence(channel: "room")
        #expect(listed.map(\.client) == ["c1", "c2", "c3"])
        #expect(listed.first == c1)
        let stats = try await presence.stats(channel: "room")
        #expect(stats.numClients == 3 && stats.numUsers == 2)
        await close()
    }

    /// Adding a client again replaces its entry (a refresh with new info), never duplicates it.
    package func addingAgainReplaces() async throws {
        let (presence, close) = try await makePresence()
        try await presence.add(channel: "room", info: ClientInfo(user: "u", client: "c", connInfo: Array("1".utf8)))
        try await presence.add(channel: "room", info: ClientInfo(user: "u", client: "c", connInfo: Array("2".utf8)))
        #expect(try await presence.presence(channel: "room") == [ClientInfo(user: "u", client: "c", connInfo: Array("2".utf8))])
        #expect(try await presence.stats(channel: "room").numClients == 1)
        await close()
    }

    /// Removing takes out that client of that channel only; removing an absent one is harmless.
    package func removeIsPerChannelAndIdempotent() async throws {
        let (presence, close) = try await makePresence()
        try await presence.add(channel: "a", info: ClientInfo(user: "u", client: "c"))
        try await presence.add(channel: "b", info: ClientInfo(user: "u", client: "c"))
        try await presence.remove(channel: "a", clientID: "c")
        try await presence.remove(channel: "a", clientID: "c")
        try await presence.remove(channel: "none", clientID: "x")
        #expect(try await presence.presence(channel: "a").isEmpty)
        #expect(try await presence.presence(channel: "b").map(\.client) == ["c"])
        let empty = try await presence.stats(channel: "a")
        #expect(empty.numClients == 0 && empty.numUsers == 0)
        await close()
    }

    package enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case listsAndCounts, addingAgainReplaces, removeIsPerChannelAndIdempotent
        package var description: String { rawValue }
    }

    package func run(_ check: Check) async throws {
        switch check {
        case .listsAndCounts: try await listsAndCounts()
        case .addingAgainReplaces: try await addingAgainReplaces()
        case .removeIsPerChannelAndIdempotent: try await removeIsPerChannelAndIdempotent()
        }
    }
}
