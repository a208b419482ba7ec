import StrataCore
import StrataHistory
import Testing

@testable import StrataHub

@Suite("StreamReadCache forgets channels whose reads aged out")
struct StreamReadCacheTests {
    func read(_ cache: StreamReadCache, _ channel: String, now: Int64) async throws {
        _ = try await cache.read(channel: channel, filter: HistoryFilter(limit: 0), now: now) {
            HistoryResult(publications: [], top: StreamPosition(offset: 0, epoch: "e"))
        }
    }

    /// A channel read once (a personal channel whose client left) must not stay for ever.
    @Test func sweepDropsAgedOutChannels() async throws {
        let cache = StreamReadCache(maxAgeMillis: 500, shardCount: 4)
        for i in 0..<100 { try await read(cache, "personal:\(i)", now: 1_000) }
        #expect(cache.channelCount == 100)
        cache.sweep(now: 1_400)
        #expect(cache.channelCount == 100, "still fresh")
        cache.sweep(now: 1_600)
        #expect(cache.channelCount == 0)
    }

    /// Without the periodic sweep, a later read in the same shard clears the rest of it.
    @Test func readSweepsItsShard() async throws {
        let cache = StreamReadCache(maxAgeMillis: 500, shardCount: 1)
        for i in 0..<10 { try await read(cache, "c\(i)", now: 1_000) }
        try await read(cache, "other", now: 2_000)
        #expect(cache.channelCount == 1)
    }

    /// Readers of the same position while a read runs join it: one store call for all of them,
    /// and its failure reaches every one.
    @Test(arguments: [false, true])
    func concurrentReadsShareOneStoreCall(failing: Bool) async throws {
        struct StoreDown: Error {}
        let cache = StreamReadCache(maxAgeMillis: 500, shardCount: 4)
        let calls = Locked(0)
        let outcomes = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await cache.read(channel: "c", filter: HistoryFilter(limit: 10), now: 1_000) {
                            calls.withLock { $0 += 1 }
                            try await Task.sleep(for: .milliseconds(300))
                            if failing { throw StoreDown() }
                            return HistoryResult(publications: [], top: StreamPosition(offset: 7, epoch: "e"))
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(calls.withLock { $0 } == 1)
        #expect(outcomes == Array(repeating: !failing, count: 20))
    }

    /// Keyed table reads share one store call the same way, and never answer a stream read (or
    /// the reverse), even from the same position; a publication makes both stale.
    @Test func keyedTableReadsAreSharedApartFromStreamReads() async throws {
        let cache = StreamReadCache(maxAgeMillis: 500, shardCount: 4)
        let calls = Locked(0)
        let table = KeyedCacheRead(
            entries: [KeyedCacheEntry(publication: Publication(offset: 3, data: [1]), removed: false)],
            top: StreamPosition(offset: 4, epoch: "e"), floor: 1)
        let reads = await withTaskGroup(of: KeyedCacheRead.self, returning: [KeyedCacheRead].self) { group in
            for _ in 0..<20 {
                group.addTask {
                    (try? await cache.readKeyed(channel: "kv", since: nil, now: 1_000) {
                        calls.withLock { $0 += 1 }
                        try await Task.sleep(for: .milliseconds(200))
                        return table
                    }) ?? KeyedCacheRead(entries: [], top: StreamPosition(offset: 0, epoch: ""), floor: 0)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(calls.withLock { $0 } == 1)
        #expect(reads == Array(repeating: table, count: 20))
        let stream = try await cache.read(channel: "kv", filter: HistoryFilter(limit: -1), now: 1_100) {
            HistoryResult(publications: [], top: StreamPosition(offset: 4, epoch: "e"))
        }
        #expect(stream.publications.isEmpty)
        cache.invalidate("kv")
        _ = try await cache.readKeyed(channel: "kv", since: nil, now: 1_100) {
            calls.withLock { $0 += 1 }
            return table
        }
        #expect(calls.withLock { $0 } == 2)
    }
}
