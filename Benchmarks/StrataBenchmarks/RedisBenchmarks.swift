import Benchmark
import Foundation
import StrataCore
import StrataHistory
import StrataRedis

// Redis store benchmarks need a running redis-server: STRATA_BENCH_REDIS=host:port
// (Benchmarks/scripts/redis_bench.sh starts one pinned to a CPU and runs these).
// Each figure stands beside its raw floor, measured the same way on the same connection:
// the same Redis work as plain commands, without Strata's script, records and bookkeeping.

let benchRedis: RedisConfiguration? = {
    guard let value = ProcessInfo.processInfo.environment["STRATA_BENCH_REDIS"] else { return nil }
    let parts = value.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { return nil }
    return RedisConfiguration(host: String(parts[0]), port: port)
}()

func redisStore(_ configuration: RedisConfiguration) -> RedisHistoryStore {
    RedisHistoryStore(shards: RedisShards([configuration], prefix: "bench\(UUID().uuidString.prefix(6))", poolSize: 4))
}

/// What a publish with history costs Redis at the least: XADD (exact trim) and PUBLISH, one round trip.
func rawPublish(_ pool: RedisConnectionPool, _ stream: String) async throws {
    _ = try await pool.pipeline([
        RESPCommand("XADD", stream, "MAXLEN", "1000", "*", "d", Array(payload100)),
        RESPCommand("PUBLISH", stream + ".pubsub", Array(payload100)),
    ])
}

func redisBenchmarks() {
    guard let redis = benchRedis else { return }
    let opsConfig = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))

    Benchmark("redis raw XADD+PUBLISH, 1 client", configuration: opsConfig) { benchmark in
        let pool = RedisConnectionPool(configuration: redis, size: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await rawPublish(pool, "raw:one") }
        benchmark.stopMeasurement()
        await pool.close()
    }

    Benchmark("redis append (history_add.lua), 1 publisher", configuration: opsConfig) { benchmark in
        let store = redisStore(redis)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await publish(store, "bench:one") }
        benchmark.stopMeasurement()
        await store.shards.close()
    }

    // One iteration = 64 concurrent publishers × 100 over 16 channels (6,400 publishes), pipelined.
    Benchmark("redis raw XADD+PUBLISH, 64 concurrent ×100", configuration: opsConfig) { benchmark in
        let pool = RedisConnectionPool(configuration: redis, size: 4)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<64 { group.addTask { for _ in 0..<100 { try await rawPublish(pool, "raw:\(p % 16)") } } }
                try await group.waitForAll()
            }
        }
        benchmark.stopMeasurement()
        await pool.close()
    }

    Benchmark("redis append, 64 concurrent publishers ×100", configuration: opsConfig) { benchmark in
        let store = redisStore(redis)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try await concurrentAppends(store) }
        benchmark.stopMeasurement()
        await store.shards.close()
    }

    Benchmark("redis raw XRANGE 100 of 1000", configuration: opsConfig) { benchmark in
        let pool = RedisConnectionPool(configuration: redis, size: 1)
        for _ in 0..<1000 { try await rawPublish(pool, "raw:recover") }
        let all = try await pool.send("XRANGE", "raw:recover", "-", "+").elements ?? []
        let from = all[all.count - 100].elements?[0].string ?? "-"
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try await pool.send("XRANGE", "raw:recover", from, "+", "COUNT", "300")) }
        benchmark.stopMeasurement()
        await pool.close()
    }

    Benchmark("redis recovery read: 100 missed of 1000", configuration: opsConfig) { benchmark in
        let store = redisStore(redis)
        try await measureRecoveryRead(benchmark, store)
        await store.shards.close()
    }
}
