import StrataCore
import StrataHistory
import Testing

/// The behaviour every `HistoryStore` must have (docs/protocol/history.md §1–3). Each check takes a
/// factory, so the LMDB and Redis stores run the same suite as the memory store.
package struct HistoryStoreContract: Sendable {
    /// Makes a store reading time from `clock`.
    package let makeStore: @Sendable (ManualClock) async throws -> any HistoryStore

    package init(makeStore: @escaping @Sendable (ManualClock) async throws -> any HistoryStore) {
        self.makeStore = makeStore
    }

    static let retention = StreamRetention(size: 5, ttlSeconds: 60, metaTTLSeconds: 3600)

    func append(_ store: any HistoryStore, _ channel: String, _ text: String, _ options: AppendOptions? = nil) async throws -> AppendResult {
        try await store.append(
            channel: channel, publication: Publication(data: Array("\"\(text)\"".utf8)), options: options ?? AppendOptions(retention: Self.retention),
            onCommit: { _ in })
    }

    func offsets(_ pubs: [Publication]) -> [UInt64] { pubs.map(\.offset) }

    package func offsetsStartAtOneAndGrowByOne() async throws {
        let store = try await makeStore(ManualClock())
        var epoch = ""
        for i in 1...3 {
            let r = try await append(store, "a", "m\(i)")
            #expect(r.position.offset == UInt64(i))
            #expect(!r.position.epoch.isEmpty)
            if epoch.isEmpty { epoch = r.position.epoch }
            #expect(r.position.epoch == epoch)
            #expect(r.publication.offset == UInt64(i))
        }
        let other = try await append(store, "b", "x")
        #expect(other.position.offset == 1)
    }

    package func readCreatesEpochThatPublishKeeps() async throws {
        let store = try await makeStore(ManualClock())
        let read = try await store.history(channel: "c", filter: .topOnly, metaTTLSeconds: 3600)
        #expect(read.top.offset == 0)
        #expect(!read.top.epoch.isEmpty)
        let again = try await store.history(channel: "c", filter: .topOnly, metaTTLSeconds: 3600)
        #expect(again.top.epoch == read.top.epoch)
        let r = try await append(store, "c", "first")
        #expect(r.position == StreamPosition(offset: 1, epoch: read.top.epoch))
    }

    package func trimsExactlyToSize() async throws {
        let store = try await makeStore(ManualClock())
        for i in 1...8 { _ = try await append(store, "t", "m\(i)") }
        let all = try await store.history(channel: "t", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(offsets(all.publications) == [4, 5, 6, 7, 8])
        #expect(all.top.offset == 8)
        #expect(all.publications.last?.data == Array("\"m8\"".utf8))
    }

    package func filtersSinceLimitReverse() async throws {
        let store = try await makeStore(ManualClock())
        for i in 1...5 { _ = try await append(store, "f", "m\(i)") }
        let epoch = try await store.history(channel: "f", filter: .topOnly, metaTTLSeconds: 3600).top.epoch
        func read(_ since: UInt64?, _ limit: Int, _ reverse: Bool) async throws -> [UInt64] {
            let s = since.map { StreamPosition(offset: $0, epoch: epoch) }
            return offsets(try await store.history(channel: "f", filter: HistoryFilter(since: s, limit: limit, reverse: reverse), metaTTLSeconds: 3600).publications)
        }
        #expect(try await read(nil, 0, false) == [])
        #expect(try await read(nil, 2, false) == [1, 2])
        #expect(try await read(nil, 2, true) == [5, 4])
        #expect(try await read(nil, -1, true) == [5, 4, 3, 2, 1])
        #expect(try await read(2, -1, false) == [3, 4, 5])
        #expect(try await read(2, 2, false) == [3, 4])
        #expect(try await read(5, -1, false) == [])
        #expect(try await read(9, -1, false) == [])
        #expect(try await read(4, -1, true) == [3, 2, 1])
        #expect(try await read(4, 2, true) == [3, 2])
        #expect(try await read(1, -1, true) == [])
    }

    package func sinceBeforeRetainedWindowStartsAtOldest() async throws {
        let store = try await makeStore(ManualClock())
        for i in 1...8 { _ = try await append(store, "w", "m\(i)") }
        let epoch = try await store.history(channel: "w", filter: .topOnly, metaTTLSeconds: 3600).top.epoch
        let fwd = try await store.history(
            channel: "w", filter: HistoryFilter(since: StreamPosition(offset: 1, epoch: epoch), limit: -1), metaTTLSeconds: 3600)
        #expect(offsets(fwd.publications) == [4, 5, 6, 7, 8])
        // Reverse from a position whose predecessor was trimmed is empty (both reference brokers).
        let rev = try await store.history(
            channel: "w", filter: HistoryFilter(since: StreamPosition(offset: 3, epoch: epoch), limit: -1, reverse: true), metaTTLSeconds: 3600)
        #expect(rev.publications.isEmpty)
    }

    package func ttlExpiresEntriesButKeepsTopAndEpoch() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        let first = try await append(store, "e", "a")
        _ = try await append(store, "e", "b")
        clock.advance(seconds: 59)
        #expect(try await store.history(channel: "e", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600).publications.count == 2)
        clock.advance(seconds: 2)
        let after = try await store.history(channel: "e", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(after.publications.isEmpty)
        #expect(after.top == StreamPosition(offset: 2, epoch: first.position.epoch))
        await store.sweepExpired()
        let next = try await append(store, "e", "c")
        #expect(next.position == StreamPosition(offset: 3, epoch: first.position.epoch))
    }

    package func appendRearmsTTLOfWholeEntrySet() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        _ = try await append(store, "r", "a")
        clock.advance(seconds: 50)
        _ = try await append(store, "r", "b")
        clock.advance(seconds: 50)
        // 100 s after the first append, but only 50 s after the last: both are still there.
        let read = try await store.history(channel: "r", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(offsets(read.publications) == [1, 2])
    }

    package func metaTTLGivesNewEpoch() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        let first = try await append(store, "m", "a")
        clock.advance(seconds: 3601)
        await store.sweepExpired()
        let read = try await store.history(channel: "m", filter: .topOnly, metaTTLSeconds: 3600)
        #expect(read.top.offset == 0)
        #expect(read.top.epoch != first.position.epoch)
        let next = try await append(store, "m", "b")
        #expect(next.position == StreamPosition(offset: 1, epoch: read.top.epoch))
    }

    package func readsRefreshMetaTTL() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        let first = try await append(store, "k", "a")
        clock.advance(seconds: 3000)
        _ = try await store.history(channel: "k", filter: .topOnly, metaTTLSeconds: 3600)
        clock.advance(seconds: 3000)
        let read = try await store.history(channel: "k", filter: .topOnly, metaTTLSeconds: 3600)
        #expect(read.top == first.position)
    }

    package func removeKeepsOffsetsAndEpoch() async throws {
        let store = try await makeStore(ManualClock())
        _ = try await append(store, "h", "a")
        let second = try await append(store, "h", "b")
        try await store.removeHistory(channel: "h")
        let read = try await store.history(channel: "h", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(read.publications.isEmpty)
        #expect(read.top == second.position)
        let next = try await append(store, "h", "c")
        #expect(next.position == StreamPosition(offset: 3, epoch: second.position.epoch))
    }

    package func idempotentPublishReturnsFirstResult() async throws {
        let clock = ManualClock()
        let store = try await makeStore(clock)
        let options = AppendOptions(retention: Self.retention, idempotencyKey: "k1", idempotentResultTTLSeconds: 300)
        let first = try await append(store, "i", "a", options)
        let again = try await append(store, "i", "a", options)
        #expect(again.suppressed)
        #expect(again.position == first.position)
        #expect(try await store.history(channel: "i", filter: .topOnly, metaTTLSeconds: 3600).top.offset == 1)
        clock.advance(seconds: 301)
        let later = try await append(store, "i", "a", options)
        #expect(!later.suppressed)
        #expect(later.position.offset == 2)
    }

    package func versionSuppressesOlder() async throws {
        let store = try await makeStore(ManualClock())
        let v2 = try await append(store, "v", "a", AppendOptions(retention: Self.retention, version: 2))
        let v1 = try await append(store, "v", "b", AppendOptions(retention: Self.retention, version: 1))
        #expect(v1.suppressed)
        #expect(v1.position == v2.position)
        let v3 = try await append(store, "v", "c", AppendOptions(retention: Self.retention, version: 3))
        #expect(!v3.suppressed)
        #expect(v3.position.offset == 2)
    }

    package func deltaBaseIsPreviousPublication() async throws {
        let store = try await makeStore(ManualClock())
        let options = AppendOptions(retention: Self.retention, useDelta: true)
        let first = try await append(store, "d", "a", options)
        #expect(first.previous == nil)
        let second = try await append(store, "d", "b", options)
        #expect(second.previous?.offset == 1)
        #expect(second.previous?.data == Array("\"a\"".utf8))
    }

    package func onCommitRunsInOffsetOrder() async throws {
        let store = try await makeStore(ManualClock())
        let seen = Locked<[UInt64]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    _ = try await store.append(
                        channel: "o", publication: Publication(data: Array("\(i)".utf8)), options: AppendOptions(retention: Self.retention),
                        onCommit: { r in seen.withLock { $0.append(r.publication.offset) } })
                }
            }
            try await group.waitForAll()
        }
        #expect(seen.withLock { $0 } == Array(1...200))
    }

    package func noHistoryMeansNoOffset() async throws {
        let store = try await makeStore(ManualClock())
        let committed = Locked(0)
        let r = try await store.append(
            channel: "p", publication: Publication(data: [1]), options: AppendOptions(retention: StreamRetention(size: 0, ttlSeconds: 0, metaTTLSeconds: 0)),
            onCommit: { _ in committed.withLock { $0 += 1 } })
        #expect(r.position == StreamPosition(offset: 0, epoch: ""))
        #expect(committed.withLock { $0 } == 1)
    }

    /// Payloads come back byte for byte (whitespace and newlines of JSON, binary), large ones
    /// too (which stores may compress), and so does whether a payload is JSON: a binary one must
    /// never be written into a JSON frame as if it were.
    package func payloadBytesAndKindSurvive() async throws {
        let store = try await makeStore(ManualClock())
        let retention = AppendOptions(retention: Self.retention)
        let spaced = Array("{ \"z\" : 1,\n  \"a\" : [1.50, 2] }".utf8)
        let binary: [UInt8] = [0x00, 0xFF, 0x0A, 0x7B]
        let large = Array(String(repeating: "{\"k\": \"v v\"}\n", count: 200).utf8)
        let payloads: [([UInt8], Bool)] = [(spaced, true), (binary, false), (large, false), (large, true)]
        var delivered: [Publication] = []
        for (data, isJSON) in payloads {
            let r = try await store.append(
                channel: "raw", publication: Publication(data: data, isJSON: isJSON), options: retention, onCommit: { _ in })
            delivered.append(r.publication)
        }
        #expect(delivered.map(\.data) == payloads.map(\.0))
        #expect(delivered.map(\.isJSON) == payloads.map(\.1))
        let read = try await store.history(channel: "raw", filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
        #expect(read.publications.map(\.data) == payloads.map(\.0))
        #expect(read.publications.map(\.isJSON) == payloads.map(\.1))
    }

    /// Every check of the contract, so a store's test file is one parameterized test.
    package enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case offsetsStartAtOneAndGrowByOne, readCreatesEpochThatPublishKeeps, trimsExactlyToSize, filtersSinceLimitReverse
        case sinceBeforeRetainedWindowStartsAtOldest, ttlExpiresEntriesButKeepsTopAndEpoch, appendRearmsTTLOfWholeEntrySet
        case metaTTLGivesNewEpoch, readsRefreshMetaTTL, removeKeepsOffsetsAndEpoch, idempotentPublishReturnsFirstResult
        case versionSuppressesOlder, deltaBaseIsPreviousPublication, onCommitRunsInOffsetOrder, noHistoryMeansNoOffset
        case payloadBytesAndKindSurvive
        case keyedCacheKeepsLatestPerKey, keyedCacheLimitDropsOldestTombstone, keyedCacheFollowsEpochAndRemoval
        case keyedCacheStartedMidStreamFloorsAtItsStart

        package var description: String { rawValue }
    }

    package func run(_ check: Check) async throws {
        switch check {
        case .offsetsStartAtOneAndGrowByOne: try await offsetsStartAtOneAndGrowByOne()
        case .readCreatesEpochThatPublishKeeps: try await readCreatesEpochThatPublishKeeps()
        case .trimsExactlyToSize: try await trimsExactlyToSize()
        case .filtersSinceLimitReverse: try await filtersSinceLimitReverse()
        case .sinceBeforeRetainedWindowStartsAtOldest: try await sinceBeforeRetainedWindowStartsAtOldest()
        case .ttlExpiresEntriesButKeepsTopAndEpoch: try await ttlExpiresEntriesButKeepsTopAndEpoch()
        case .appendRearmsTTLOfWholeEntrySet: try await appendRearmsTTLOfWholeEntrySet()
        case .metaTTLGivesNewEpoch: try await metaTTLGivesNewEpoch()
        case .readsRefreshMetaTTL: try await readsRefreshMetaTTL()
        case .removeKeepsOffsetsAndEpoch: try await removeKeepsOffsetsAndEpoch()
        case .idempotentPublishReturnsFirstResult: try await idempotentPublishReturnsFirstResult()
        case .versionSuppressesOlder: try await versionSuppressesOlder()
        case .deltaBaseIsPreviousPublication: try await deltaBaseIsPreviousPublication()
        case .onCommitRunsInOffsetOrder: try await onCommitRunsInOffsetOrder()
        case .noHistoryMeansNoOffset: try await noHistoryMeansNoOffset()
        case .payloadBytesAndKindSurvive: try await payloadBytesAndKindSurvive()
        case .keyedCacheKeepsLatestPerKey: try await keyedCacheKeepsLatestPerKey()
        case .keyedCacheLimitDropsOldestTombstone: try await keyedCacheLimitDropsOldestTombstone()
        case .keyedCacheFollowsEpochAndRemoval: try await keyedCacheFollowsEpochAndRemoval()
        case .keyedCacheStartedMidStreamFloorsAtItsStart: try await keyedCacheStartedMidStreamFloorsAtItsStart()
        }
    }
}
