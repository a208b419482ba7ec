import Atomics
import CoreMetrics

// The storage behind each series. Every update is one or a few relaxed atomic operations — no
// lock, no allocation — so instrumenting a path costs what its atomics cost (docs/metrics.md has
// the measured overhead on fan-out).

/// A monotonically increasing integer (Prometheus counter).
package final class CounterCell: CounterHandler, Sendable {
    private let value = ManagedAtomic<Int64>(0)

    package func increment(by amount: Int64) {
        value.wrappingIncrement(by: amount, ordering: .relaxed)
    }

    /// Counters are never reset by Strata (Prometheus derives rates from their totals).
    package func reset() {}

    package var current: Int64 { value.load(ordering: .relaxed) }
}

/// A value that goes up and down, stored as a Double's bits (Prometheus gauge); also the
/// backend of swift-metrics `Gauge` (a recorder that keeps the last value) and `Meter`.
package final class GaugeCell: RecorderHandler, MeterHandler, Sendable {
    private let bits = ManagedAtomic<UInt64>(0.0.bitPattern)

    package func record(_ value: Int64) { set(Double(value)) }
    package func record(_ value: Double) { set(value) }
    package func set(_ value: Int64) { set(Double(value)) }
    package func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    package func increment(by amount: Double) { add(amount) }
    package func decrement(by amount: Double) { add(-amount) }

    private func add(_ delta: Double) { bits.addDouble(delta) }

    package var current: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// Observations counted into fixed buckets (Prometheus histogram). Each observation is counted
/// in its own bucket only; the exposition accumulates.
package final class HistogramCell: Sendable {
    package let bounds: [Double]
    /// One per bound, plus one for +Inf.
    private let counts: [ManagedAtomic<Int64>]
    private let sumBits = ManagedAtomic<UInt64>(0.0.bitPattern)

    package init(bounds: [Double]) {
        self.bounds = bounds
        self.counts = (0...bounds.count).map { _ in ManagedAtomic<Int64>(0) }
    }

    package func observe(_ value: Double) {
        var i = 0
        while i < bounds.count && value > bounds[i] { i += 1 }
        counts[i].wrappingIncrement(ordering: .relaxed)
        sumBits.addDouble(value)
    }

    /// Cumulative counts per bound, then the total (the +Inf bucket).
    package var cumulative: [Int64] {
        var total: Int64 = 0
        return counts.map {
            total += $0.load(ordering: .relaxed)
            return total
        }
    }

    package var sum: Double { Double(bitPattern: sumBits.load(ordering: .relaxed)) }
}

extension ManagedAtomic where Value == UInt64 {
    /// Adds to the Double whose bits this holds (a compare-and-swap loop: there is no atomic
    /// floating-point add).
    func addDouble(_ delta: Double) {
        var old = load(ordering: .relaxed)
        while true {
            let (done, seen) = weakCompareExchange(expected: old, desired: (Double(bitPattern: old) + delta).bitPattern, ordering: .relaxed)
            if done { return }
            old = seen
        }
    }
}
