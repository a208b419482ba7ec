import CLMDB
import Foundation
import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataLMDB

/// A fresh directory per store, removed with the test process's temp files.
func temporaryDirectory(_ name: String = "lmdb") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-\(name)-\(RandomID.uuidString())").path
    return dir
}

@Suite("LMDBHistoryStore contract")
struct LMDBHistoryStoreContractTests {
    let suite = HistoryStoreContract { clock in
        try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory(), mapSize: 8 << 20, compressMinSize: 16), clock: clock)
    }

    @Test(arguments: HistoryStoreContract.Check.allCases)
    func contract(_ check: HistoryStoreContract.Check) async throws { try await suite.run(check) }
}

@Suite("LMDBHistoryStore on disk")
struct LMDBHistoryStoreDiskTests {
    static let retention = StreamRetention(size: 100, ttlSeconds: 600, metaTTLSeconds: 86_400)

    func append(_ store: LMDBHistoryStore, _ channel: String, _ data: [UInt8], info: ClientInfo? = nil, tags: [String: String] = [:])
        async throws -> AppendResult
    {
        try await store.append(
            channel: channel, publication: Publication(data: data, info: info, tags: tags, time: 1234),
            options: AppendOptions(retention: Self.retention), onCommit: { _ in })
    }

    @Test func streamsSurviveReopenWithSameEpochAndOffsets() async throws {
        let path = temporaryDirectory()
        let clock = ManualClock()
        var epoch = ""
        do {
            let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: path), clock: clock)
            for i in 1...5 { epoch = try await append(store, "chat:a", Array("{\"i\":\(i)}".utf8)).position.epoch }
            store.close()
        }
        let reopened = try LMDBHistoryStore(options: LMDBStoreOptions(path: path), clock: clock)
        let read = try await reopened.history(channel: "chat:a", filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
        #expect(read.top == StreamPosition(offset: 5, epoch: epoch))
        #expect(read.publications.map(\.offset) == [1, 2, 3, 4, 5])
        #expect(read.publications.last?.data == Array("{\"i\":5}".utf8))
        let next = try await append(reopened, "chat:a", Array("{}".utf8))
        #expect(next.position == StreamPosition(offset: 6, epoch: epoch))
    }

    /// An idempotency key answers with its first result after the store is reopened (a restart,
    /// a crash), for its whole window and no longer (issue 20, item 7).
    @Test func idempotentResultsSurviveReopenForTheirWindow() async throws {
        let path = temporaryDirectory()
        let clock = ManualClock()
        let options = AppendOptions(retention: Self.retention, idempotencyKey: "order-17", idempotentResultTTLSeconds: 3600)
        let publication = Publication(data: Array("{}".utf8))
        let first: AppendResult
        do {
            let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: path), clock: clock)
            first = try await store.append(channel: "chat:i", publication: publication, options: options, onCommit: { _ in })
            store.close()
        }
        let reopened = try LMDBHistoryStore(options: LMDBStoreOptions(path: path), clock: clock)
        clock.advance(seconds: 3000)
        let retry = try await reopened.append(channel: "chat:i", publication: publication, options: options, onCommit: { _ in })
        #expect(retry.suppressed && retry.position == first.position)
        #expect(try await reopened.history(channel: "chat:i", filter: .topOnly, metaTTLSeconds: 86_400).top.offset == 1)
        clock.advance(seconds: 601)
        let afterWindow = try await reopened.append(channel: "chat:i", publication: publication, options: options, onCommit: { _ in })
        #expect(!afterWindow.suppressed && afterWindow.position.offset == 2)
    }

    @Test func publicationFieldsRoundTripIncludingCompressedPayloads() async throws {
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory(), compressMinSize: 64))
        let big = Array(String(repeating: "{\"player\":\"ünïcødé 🎉\",\"score\":12345},", count: 200).utf8)
        let info = ClientInfo(user: "42", client: "c1", connInfo: Array("{\"n\":1}".utf8), chanInfo: nil)
        _ = try await append(store, "c", big, info: info, tags: ["k": "v", "a": "b"])
        _ = try await append(store, "c", [0, 255, 10, 13])
        let read = try await store.history(channel: "c", filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
        #expect(read.publications.count == 2)
        #expect(read.publications[0].data == big)
        #expect(read.publications[0].info == info)
        #expect(read.publications[0].tags == ["k": "v", "a": "b"])
        #expect(read.publications[0].time == 1234)
        #expect(read.publications[1].data == [0, 255, 10, 13])
        #expect(read.publications[1].info == nil)
    }

    @Test func channelNamesLongerThanLMDBKeyLimitWork() async throws {
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        let a = "chat:" + String(repeating: "a", count: 2000)
        let b = a + "b"  // shares the 384-byte prefix
        _ = try await append(store, a, Array("1".utf8))
        _ = try await append(store, a, Array("2".utf8))
        _ = try await append(store, b, Array("3".utf8))
        let ra = try await store.history(channel: a, filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
        let rb = try await store.history(channel: b, filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
        #expect(ra.publications.map(\.data) == [Array("1".utf8), Array("2".utf8)])
        #expect(rb.publications.map(\.data) == [Array("3".utf8)])
        #expect(ra.top.epoch != rb.top.epoch)
    }

    @Test func fullMapGrowsInsteadOfFailing() async throws {
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory(), mapSize: 1 << 20, compressMinSize: 0))
        let payload = [UInt8](repeating: 7, count: 4000)
        for i in 0..<600 { _ = try await append(store, "grow:\(i % 7)", payload) }
        #expect(store.mapSize > 1 << 20)
        let read = try await store.history(channel: "grow:3", filter: HistoryFilter(limit: 1, reverse: true), metaTTLSeconds: 86_400)
        #expect(read.publications.first?.data == payload)
    }

    @Test func sweeperRemovesExpiredEntriesPhysically() async throws {
        let clock = ManualClock()
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory(), sweepBatch: 7), clock: clock)
        for c in 0..<5 { for _ in 0..<10 { _ = try await append(store, "s\(c)", [1]) } }
        #expect(try store.env.stat(store.env.entries).ms_entries == 50)
        clock.advance(seconds: 601)
        await store.sweepExpired()
        #expect(try store.env.stat(store.env.entries).ms_entries == 0)
        let read = try await store.history(channel: "s2", filter: .topOnly, metaTTLSeconds: 86_400)
        #expect(read.top.offset == 10)
    }

    @Test func foreignOrCorruptDirectoriesAreRefusedWithThePath() async throws {
        let notDir = temporaryDirectory("file")
        FileManager.default.createFile(atPath: notDir, contents: Data("x".utf8))
        #expect(throws: LMDBStoreError.self) { try LMDBHistoryStore(options: LMDBStoreOptions(path: notDir)) }

        let corrupt = temporaryDirectory("corrupt")
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: corrupt + "/data.mdb", contents: Data(repeating: 0x42, count: 64 * 1024))
        do {
            _ = try LMDBHistoryStore(options: LMDBStoreOptions(path: corrupt))
            Issue.record("a corrupt data.mdb was accepted")
        } catch {
            #expect("\(error)".contains(corrupt))
        }
        // The corrupt file was not re-initialised.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: corrupt + "/data.mdb"))
        #expect(bytes.allSatisfy { $0 == 0x42 })
    }

    @Test func readaheadCanBeTurnedOff() async throws {
        // Keep each store alive while its environment is inspected (releasing it closes the environment).
        let withReadahead = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        #expect(withReadahead.env.flags & UInt32(MDB_NORDAHEAD) == 0)
        var options = LMDBStoreOptions(path: temporaryDirectory())
        options.readahead = false
        let without = try LMDBHistoryStore(options: options)
        #expect(without.env.flags & UInt32(MDB_NORDAHEAD) != 0)
    }

    @Test func openingTheSameDirectoryTwiceIsRefused() async throws {
        let path = temporaryDirectory()
        let first = try LMDBHistoryStore(options: LMDBStoreOptions(path: path))
        #expect(throws: LMDBStoreError.self) { try LMDBHistoryStore(options: LMDBStoreOptions(path: path)) }
        _ = first
    }
}

@Suite("LMDB writer batches")
struct LMDBWriterBatchTests {
    struct Broken: Error {}

    /// An op that fails on its own (a corrupt record it read, say) fails alone: the publishes it
    /// shared a group commit with still commit, with their offsets and in order.
    @Test func anOpsOwnFailureDoesNotFailItsBatch() async throws {
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        let retention = StreamRetention(size: 10, ttlSeconds: 600, metaTTLSeconds: 3600)
        let committed = Locked<[String]>([])
        // A slow op holds the writer, so what is submitted meanwhile queues up as one batch.
        async let slow: Bool = store.write { _ in
            Thread.sleep(forTimeInterval: 0.3)
            return true
        }
        try await Task.sleep(for: .milliseconds(50))
        let outcomes = await withTaskGroup(of: (String, Bool).self, returning: [String: Bool].self) { group in
            for channel in ["a", "b", "c"] {
                group.addTask {
                    let r = try? await store.append(
                        channel: channel, publication: Publication(data: Array("1".utf8)), options: AppendOptions(retention: retention),
                        onCommit: { result in committed.withLock { $0.append("\(channel):\(result.position.offset)") } })
                    return (channel, r?.position.offset == 1)
                }
            }
            group.addTask {
                let failed = (try? await store.write { _ -> Bool in throw Broken() }) == nil
                return ("broken", failed)
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        _ = try await slow
        #expect(outcomes == ["a": true, "b": true, "c": true, "broken": true])
        #expect(committed.withLock { $0.sorted() } == ["a:1", "b:1", "c:1"])
        for channel in ["a", "b", "c"] {
            let read = try await store.history(channel: channel, filter: HistoryFilter(limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map(\.offset) == [1])
        }
    }
}

@Suite("LMDB operator tools")
struct LMDBToolsTests {
    @Test func exportThenImportReproducesStreams() async throws {
        let clock = ManualClock()
        let source = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory(), compressMinSize: 32), clock: clock)
        let retention = StreamRetention(size: 50, ttlSeconds: 600, metaTTLSeconds: 86_400)
        var epochs: [String: String] = [:]
        for c in 0..<30 {
            for i in 0..<(c % 7 + 1) {
                let r = try await source.append(
                    channel: "ch:\(c)", publication: Publication(data: Array(String(repeating: "{\"i\":\(i)}", count: c + 1).utf8), tags: ["n": "\(i)"]),
                    options: AppendOptions(retention: retention), onCommit: { _ in })
                epochs["ch:\(c)"] = r.position.epoch
            }
        }
        let file = temporaryDirectory("export") + ".zst"
        let exported = try source.export(to: file)
        #expect(exported.channels == 30)
        #expect(exported.entries == (0..<30).reduce(0) { $0 + $1 % 7 + 1 })
        let target = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()), clock: clock)
        let imported = try await target.importExport(from: file)
        #expect(imported.channels == 30 && imported.entries == exported.entries)
        for c in 0..<30 {
            let a = try await source.history(channel: "ch:\(c)", filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
            let b = try await target.history(channel: "ch:\(c)", filter: HistoryFilter(limit: -1), metaTTLSeconds: 86_400)
            #expect(a.top == b.top)
            #expect(b.top.epoch == epochs["ch:\(c)"])
            #expect(a.publications == b.publications)
        }
        // The imported stream continues where the source left off.
        let next = try await target.append(
            channel: "ch:3", publication: Publication(data: [1]), options: AppendOptions(retention: retention), onCommit: { _ in })
        #expect(next.position == StreamPosition(offset: 5, epoch: epochs["ch:3"]!))
    }

    /// A keyed cache table travels with its stream: the same live keys, tombstones, count and
    /// floor after the import, so the key limit and recovery decide the same.
    @Test func exportThenImportKeepsKeyedTables() async throws {
        let source = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        let retention = StreamRetention(size: 3, ttlSeconds: 600, metaTTLSeconds: 86_400)
        func set(_ store: LMDBHistoryStore, _ key: String, removes: Bool = false) async throws -> AppendResult {
            try await store.append(
                channel: "kv", publication: Publication(data: Array("\"\(key)\"".utf8), tags: ["k": key]),
                options: AppendOptions(retention: retention, cacheKey: CacheKeyUpdate(key: key, removes: removes, limit: 3)), onCommit: { _ in })
        }
        for key in ["a", "b", "c"] { _ = try await set(source, key) }
        _ = try await set(source, "a", removes: true)   // 4: tombstone
        _ = try await set(source, "d")                  // 5: drops the tombstone, floor 4
        let file = temporaryDirectory("keyed-export") + ".zst"
        _ = try source.export(to: file)
        let target = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        _ = try await target.importExport(from: file)
        let before = try await source.keyedCache(channel: "kv", since: 0, metaTTLSeconds: 86_400)
        let after = try await target.keyedCache(channel: "kv", since: 0, metaTTLSeconds: 86_400)
        #expect(after == before)
        #expect(after.entries.map(\.publication.offset) == [2, 3, 5] && after.floor == 4)
        // Full again in the target: a new key is refused, a known one updates.
        await #expect(throws: CacheKeyLimitExceeded(limit: 3)) { try await set(target, "e") }
        #expect(try await set(target, "b").position.offset == 6)
    }

    @Test func truncatedOrForeignExportIsAnError() async throws {
        let target = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        let bogus = temporaryDirectory("bogus")
        FileManager.default.createFile(atPath: bogus, contents: Data("not zstd at all".utf8))
        await #expect(throws: (any Error).self) { try await target.importExport(from: bogus) }
    }

    @Test func statsAndDump() async throws {
        let store = try LMDBHistoryStore(options: LMDBStoreOptions(path: temporaryDirectory()))
        for i in 1...4 {
            _ = try await store.append(
                channel: "d", publication: Publication(data: Array("\(i)".utf8)),
                options: AppendOptions(retention: StreamRetention(size: 10, ttlSeconds: 60, metaTTLSeconds: 600)), onCommit: { _ in })
        }
        let s = try store.stats()
        #expect(s.channels == 1 && s.entries == 4)
        #expect(try store.dump(channel: "d", since: 2).map(\.offset) == [3, 4])
        #expect(try store.summary(of: "d")?.retained == 4)
        #expect(try store.dump(channel: "none").isEmpty)
    }
}
