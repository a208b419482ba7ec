import Benchmark
import CLMDB
import Foundation
import StrataCompression
import StrataCore
import StrataHistory
import StrataLMDB

// Run: STRATA_BENCHMARKS=1 swift package benchmark --target StrataBenchmarks
// Figures and how to read them: docs/benchmarks.md.

let payload100 = Array(String(repeating: "x", count: 86).utf8).prefix(86) + Array("{\"seq\":123456}".utf8)
let retention = StreamRetention(size: 1000, ttlSeconds: 3600, metaTTLSeconds: 86_400)

func benchDirectory(_ name: String) -> String {
    let base = ProcessInfo.processInfo.environment["STRATA_BENCH_DIR"] ?? FileManager.default.temporaryDirectory.path
    let dir = "\(base)/strata-bench-\(name)-\(UUID().uuidString)"
    return dir
}

func lmdbStore(_ name: String, relaxed: Bool = false, compressMinSize: Int = 512) throws -> LMDBHistoryStore {
    try LMDBHistoryStore(options: LMDBStoreOptions(path: benchDirectory(name), mapSize: 1 << 30, relaxedDurability: relaxed, compressMinSize: compressMinSize))
}

/// 64 concurrent publishers × 100 publishes over 16 channels: what group commit is for.
func concurrentAppends(_ store: any HistoryStore) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for p in 0..<64 {
            group.addTask { for _ in 0..<100 { try await publish(store, "bench:\(p % 16)") } }
        }
        try await group.waitForAll()
    }
}

func publish(_ store: any HistoryStore, _ channel: String) async throws {
    _ = try await store.append(
        channel: channel, publication: Publication(data: Array(payload100)), options: AppendOptions(retention: retention), onCommit: { _ in })
}

/// 1000 publications, then reads of the last 100 as a recovering client asks for them.
func measureRecoveryRead(_ benchmark: Benchmark, _ store: any HistoryStore) async throws {
    for _ in 0..<1000 { try await publish(store, "bench:recover") }
    let top = try await store.history(channel: "bench:recover", filter: .topOnly, metaTTLSeconds: 86_400).top
    let since = StreamPosition(offset: top.offset - 100, epoch: top.epoch)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        blackHole(try await store.history(channel: "bench:recover", filter: HistoryFilter(since: since, limit: 300), metaTTLSeconds: 86_400))
    }
    benchmark.stopMeasurement()
}

/// Raw liblmdb: one `mdb_put` per transaction commit, fsync on (the floor for one durable write).
final class RawLMDB {
    var env: OpaquePointer?
    var dbi: MDB_dbi = 0
    var counter: UInt64 = 0

    init(path: String, sync: Bool) {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        mdb_env_create(&env)
        mdb_env_set_mapsize(env, 1 << 30)
        mdb_env_open(env, path, UInt32(MDB_NOTLS) | (sync ? 0 : UInt32(MDB_NOSYNC)), 0o644)
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, 0, &txn)
        mdb_dbi_open(txn, nil, 0, &dbi)
        mdb_txn_commit(txn)
    }

    func put(batch: Int) {
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, 0, &txn)
        for _ in 0..<batch {
            counter += 1
            var k = counter.bigEndian
            var value = Array(payload100)
            withUnsafeMutableBytes(of: &k) { kb in
                value.withUnsafeMutableBytes { vb in
                    var key = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
                    var val = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    mdb_put(txn, dbi, &key, &val, 0)
                }
            }
        }
        mdb_txn_commit(txn)
    }

    deinit { mdb_env_close(env) }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(3), maxIterations: 1_000_000)

    // MARK: Raw floor

    Benchmark("raw mdb_put+commit, fsync (1 per txn)", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        let raw = RawLMDB(path: benchDirectory("raw-sync"), sync: true)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { raw.put(batch: 1) }
    }

    Benchmark("raw mdb_put, 64 per fsynced txn", configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one)) { benchmark in
        let raw = RawLMDB(path: benchDirectory("raw-batch"), sync: true)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { raw.put(batch: 64) }
    }

    // MARK: Appends

    Benchmark("append durable, 1 channel, 1 publisher") { benchmark in
        let store = try lmdbStore("one")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await publish(store, "bench:one") }
        benchmark.stopMeasurement()
        store.close()
    }

    Benchmark("append durable, 10k channels, 1 publisher") { benchmark in
        let store = try lmdbStore("many")
        var i = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try await publish(store, "bench:\(i % 10_000)")
            i += 1
        }
        benchmark.stopMeasurement()
        store.close()
    }

    // One iteration = 64 concurrent publishers × 100 publishes (6,400 publishes): group commit.
    Benchmark("append durable, 64 concurrent publishers ×100", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        let store = try lmdbStore("concurrent")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await concurrentAppends(store) }
        benchmark.stopMeasurement()
        store.close()
    }

    Benchmark("append relaxed, 64 concurrent publishers ×100", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        let store = try lmdbStore("relaxed", relaxed: true)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await concurrentAppends(store) }
        benchmark.stopMeasurement()
        store.close()
    }

    Benchmark("append memory store, 64 concurrent publishers ×100", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        let store = MemoryHistoryStore()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await concurrentAppends(store) }
    }

    // MARK: Reads

    Benchmark("read last 10 (warm), LMDB") { benchmark in
        let store = try lmdbStore("read", relaxed: true)
        for _ in 0..<1000 { try await publish(store, "bench:read") }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await store.history(channel: "bench:read", filter: HistoryFilter(limit: 10, reverse: true), metaTTLSeconds: 86_400))
        }
        benchmark.stopMeasurement()
        store.close()
    }

    Benchmark("recovery read: 100 missed of 1000, LMDB") { benchmark in
        let store = try lmdbStore("recover", relaxed: true)
        try await measureRecoveryRead(benchmark, store)
        store.close()
    }

    Benchmark("read last 10, memory store") { benchmark in
        let store = MemoryHistoryStore()
        for _ in 0..<1000 { try await publish(store, "bench:read") }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await store.history(channel: "bench:read", filter: HistoryFilter(limit: 10, reverse: true), metaTTLSeconds: 86_400))
        }
    }

    // MARK: zstd

    let gameState = Array(
        (0..<22).map { "{\"player\":\"Player \($0)\",\"team\":\"\($0 < 11 ? "home" : "away")\",\"x\":\($0 * 3),\"y\":\($0 * 7),\"speed\":12.5}" }
            .joined(separator: ",").utf8)
    sweepBenchmarks()
    redisBenchmarks()
    deltaBenchmarks()
    broadcastBenchmarks()
    codecBenchmarks()

    Benchmark("zstd compress 2.6 KB JSON (reused context)", configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal])) { benchmark in
        let c = ZstdCompressor(level: 3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try c.compress(gameState)) }
    }
}

// MARK: Expiry sweep under load

/// A store holding `count` entries (1000 channels) whose TTL has passed, on a manual clock.
func storeWithExpiredEntries(_ count: Int, relaxed: Bool) async throws -> (LMDBHistoryStore, ManualClock) {
    let clock = ManualClock()
    let store = try LMDBHistoryStore(
        options: LMDBStoreOptions(path: benchDirectory("sweep"), mapSize: 4 << 30, relaxedDurability: true, compressMinSize: 0), clock: clock)
    let shortLived = StreamRetention(size: 10_000, ttlSeconds: 10, metaTTLSeconds: 86_400)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<64 {
            group.addTask {
                for i in stride(from: w, to: count, by: 64) {
                    _ = try await store.append(
                        channel: "expiring:\(i % 1000)", publication: Publication(data: Array(payload100)),
                        options: AppendOptions(retention: shortLived), onCommit: { _ in })
                }
            }
        }
        try await group.waitForAll()
    }
    clock.advance(seconds: 11)
    store.close()
    // Reopen with the durability under test.
    let reopened = try LMDBHistoryStore(
        options: LMDBStoreOptions(path: store.path, mapSize: 4 << 30, relaxedDurability: relaxed, compressMinSize: 0), clock: clock)
    return (reopened, clock)
}

let sweepEntries = Int(ProcessInfo.processInfo.environment["STRATA_SWEEP_ENTRIES"] ?? "") ?? 1_000_000

extension Benchmark {
    /// 5,000 durable publishes timed one by one (percentiles printed to stderr, since the setup is
    /// too heavy for per-iteration sampling) while, optionally, the sweeper deletes the expired entries.
    static func publishLatency(_ name: String, sweeping: Bool) {
        Benchmark(name, configuration: .init(metrics: [.wallClock], maxDuration: .seconds(1), maxIterations: 1)) { benchmark in
            let (store, _) = try await storeWithExpiredEntries(sweepEntries, relaxed: false)
            let before = try store.stats().entries
            let sweeper = Task {
                guard sweeping else { return }
                await store.sweepExpired()
            }
            var latencies: [Duration] = []
            latencies.reserveCapacity(5000)
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            for _ in 0..<5000 {
                let t0 = clock.now
                try await publish(store, "live:channel")
                latencies.append(clock.now - t0)
            }
            benchmark.stopMeasurement()
            let remaining = try store.stats().entries
            await sweeper.value
            latencies.sort()
            func pct(_ q: Double) -> String {
                let d = latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]
                return String(format: "%.0f", Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
            }
            FileHandle.standardError.write(Data("""
                RESULT \(name): publish latency µs p50 \(pct(0.5)) p90 \(pct(0.9)) p99 \(pct(0.99)) max \(pct(0.9999)); \
                entries \(before) before, \(remaining) when the 5,000 publishes ended\n
                """.utf8))
            store.close()
        }
    }
}

let sweepBenchmarks: @Sendable () -> Void = {
    Benchmark.publishLatency("publish durable, idle store with 1M expired entries", sweeping: false)
    Benchmark.publishLatency("publish durable, during the sweep of 1M expired entries", sweeping: true)
}
