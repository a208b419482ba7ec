import StrataCore
import StrataHistory
import Testing

/// The keyed cache part of the store contract (StrataHistory/KeyedCache.swift).
extension HistoryStoreContract {
    func set(_ store: any HistoryStore, _ channel: String, _ key: String, _ text: String, removes: Bool = false, limit: Int = 100)
        async throws -> AppendResult
    {
        try await append(
            store, channel, text,
            AppendOptions(retention: Self.retention, cacheKey: CacheKeyUpdate(key: key, removes: removes, limit: limit)))
    }

    func keyed(_ store: any HistoryStore, _ channel: String, since: UInt64? = nil) async throws -> KeyedCacheRead {
        try await store.keyedCache(channel: channel, since: since, metaTTLSeconds: 3600)
    }

    /// (offset, text, removed) of each entry, to compare in one line.
    func summary(_ read: KeyedCacheRead) -> [String] {
        read.entries.map { "\($0.publication.offset):\(String(decoding: $0.publication.data, as: UTF8.self))\($0.removed ? ":removed" : "")" }
    }

    package func keyedCacheKeepsLatestPerKey() async throws {
        let store = try await makeStore(ManualClock())
        _ = try await set(store, "k", "a", "a1")
        _ = try await set(store, "k", "b", "b1")
        _ = try await set(store, "k", "a", "a2")
        _ = try await set(store, "k", "c", "c1")
        let removal = try await set(store, "k", "b", "gone", removes: true)
        #expect(removal.position.offset == 5)
        // Far more publications than history_size: the table keeps every key regardless.
        for i in 1...7 { _ = try await set(store, "k", "z", "z\(i)") }
        let fresh = try await keyed(store, "k")
        #expect(summary(fresh) == ["3:\"a2\"", "4:\"c1\"", "12:\"z7\""])
        #expect(fresh.top == StreamPosition(offset: 12, epoch: removal.position.epoch))
        #expect(fresh.floor == 0)
        #expect(summary(try await keyed(store, "k", since: 3)) == ["4:\"c1\"", "5:\"gone\":removed", "12:\"z7\""])
        #expect(summary(try await keyed(store, "k", since: 12)) == [])
        // A removal of a key the table does not hold stores nothing, but is a publication.
        let unknown = try await set(store, "k", "never", "x", removes: true)
        #expect(unknown.position.offset == 13)
        #expect(summary(try await keyed(store, "k", since: 12)) == [])
        // Publications without a key leave the table alone.
        _ = try await append(store, "k", "plain")
        #expect(try await keyed(store, "k").entries.count == 3)
        // Tombstones come back with their tags: what the subscriber saw live.
        let stored = try await keyed(store, "k", since: 4).entries.first { $0.removed }
        #expect(stored?.publication.data == Array("\"gone\"".utf8))
    }

    package func keyedCacheLimitDropsOldestTombstone() async throws {
        let store = try await makeStore(ManualClock())
        _ = try await set(store, "l", "a", "a1", limit: 2)
        _ = try await set(store, "l", "b", "b1", limit: 2)
        await #expect(throws: CacheKeyLimitExceeded(limit: 2)) { try await self.set(store, "l", "c", "c1", limit: 2) }
        // Refused before anything was written: no offset taken.
        #expect(try await store.history(channel: "l", filter: .topOnly, metaTTLSeconds: 3600).top.offset == 2)
        // Known keys still update at the limit.
        _ = try await set(store, "l", "a", "a2", limit: 2)
        _ = try await set(store, "l", "a", "a-gone", removes: true, limit: 2)
        let c = try await set(store, "l", "c", "c1", limit: 2)
        #expect(c.position.offset == 5)
        let read = try await keyed(store, "l", since: 0)
        #expect(summary(read) == ["2:\"b1\"", "5:\"c1\""])
        #expect(read.floor == 4)
        await #expect(throws: CacheKeyLimitExceeded(limit: 2)) { try await self.set(store, "l", "d", "d1", limit: 2) }
    }

    /// Publications made before the first key are not in the table: its floor starts at the top.
    package func keyedCacheStartedMidStreamFloorsAtItsStart() async throws {
        let store = try await makeStore(ManualClock())
        _ = try await append(store, "m", "plain1")
        _ = try await append(store, "m", "plain2")
        let before = try await keyed(store, "m")
        #expect(before.entries.isEmpty && before.floor == 2)
        _ = try await set(store, "m", "a", "a1")
        let after = try await keyed(store, "m", since: 0)
        #expect(summary(after) == ["3:\"a1\""] && after.floor == 2)
        _ = try await set(store, "m", "b", "b1")
        #expect(try await keyed(store, "m").floor == 2)
    }

    package func keyedCacheFollowsEpochAndRemoval() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        _ = try await set(store, "e", "a", "a1")
        let second = try await set(store, "e", "b", "b1")
        try await store.removeHistory(channel: "e")
        let removed = try await keyed(store, "e")
        #expect(removed.entries.isEmpty)
        #expect(removed.top == second.position)
        #expect(removed.floor == 2)
        _ = try await set(store, "e", "c", "c1")
        #expect(summary(try await keyed(store, "e")) == ["3:\"c1\""])
        // The meta expires: a new epoch starts with an empty table.
        clock.advance(seconds: 3601)
        await store.sweepExpired()
        let renewed = try await keyed(store, "e")
        #expect(renewed.entries.isEmpty && renewed.floor == 0 && renewed.top.offset == 0)
        #expect(renewed.top.epoch != second.position.epoch)
        _ = try await set(store, "e", "a", "new")
        #expect(summary(try await keyed(store, "e", since: 0)) == ["1:\"new\""])
    }
}
