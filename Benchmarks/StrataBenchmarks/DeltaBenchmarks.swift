import Benchmark
import Foundation
import StrataDelta

// In-process fossil delta encode and apply on the seeded inputs of Benchmarks/scripts/delta_inputs.py
// (1 KiB, 64 KiB and 1 MiB of words with edits), which delta_cli_bench.py also hands to Debian's
// fossil. Needs STRATA_BENCH_DELTA=DIR holding those files; throughput is target bytes per second.

let benchDeltaDirectory = ProcessInfo.processInfo.environment["STRATA_BENCH_DELTA"]

func deltaBenchmarks() {
    guard let directory = benchDeltaDirectory else { return }
    for name in ["words-1kib", "words-64kib", "words-1mib"] {
        guard let source = FileManager.default.contents(atPath: "\(directory)/\(name).source").map(Array.init),
            let target = FileManager.default.contents(atPath: "\(directory)/\(name).target").map(Array.init)
        else { continue }
        let delta = DeltaEncoder.create(source: source, target: target)
        // One iteration handles target.count bytes: with scalingFactor .one, throughput × size = B/s.
        let configuration = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(2))
        Benchmark("delta encode \(name) (\(target.count) B)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(DeltaEncoder.create(source: source, target: target)) }
        }
        Benchmark("delta apply \(name) (\(target.count) B)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try DeltaApplier.apply(source: source, delta: delta)) }
        }
    }
}
