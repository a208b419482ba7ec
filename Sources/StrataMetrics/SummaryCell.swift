import Atomics

/// Durations with quantiles over a sliding window (Prometheus summary), the way Go's client
/// reports them: `_sum` and `_count` since start, quantiles over the last 8–10 minutes (five
/// windows of two minutes; the oldest is emptied at each rotation).
///
/// Why not Go's exact CKMS stream: it takes a lock per observation. Here each window is a
/// log-linear histogram of nanoseconds (16 sub-buckets per power of two, so a quantile is off by
/// at most 1/32 of its value) updated with one relaxed atomic increment; quantiles are read from
/// the merged windows at scrape time. Windows are allocated at the first observation, so the
/// pre-created series of unused methods cost nothing.
package final class SummaryCell: @unchecked Sendable {
    package static let windowCount = 5
    /// Values up to 2^44 ns (about 4.9 hours) have their own bucket; longer ones share the last.
    static let maxExponent = 44
    static let subBits = 4
    static let bucketCount = 32 + (maxExponent - subBits) * 16

    package let quantiles: [Double]
    private let count = ManagedAtomic<Int64>(0)
    private let sumNanos = ManagedAtomic<Int64>(0)
    /// Which window takes observations now.
    private let current = ManagedAtomic<Int>(0)
    /// `windowCount × bucketCount` counters, made once at the first observation.
    private let storage = ManagedAtomicLazyReference<WindowStorage>()
    /// The summary's `<name>_histogram` companion, fed the same observations.
    package let companion: HistogramCell?

    package init(quantiles: [Double], companion: HistogramCell?) {
        self.quantiles = quantiles
        self.companion = companion
    }

    package func observe(nanoseconds: Int64) {
        let ns = max(0, nanoseconds)
        count.wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: ns, ordering: .relaxed)
        let windows = storage.load() ?? storage.storeIfNilThenLoad(WindowStorage())
        let w = current.load(ordering: .relaxed)
        windows.increment(w * Self.bucketCount + Self.bucket(UInt64(ns)))
        companion?.observe(Double(ns) / 1e9)
    }

    /// Starts a new window, emptying the oldest (called every two minutes by the registry).
    func rotate() {
        guard let windows = storage.load() else { return }
        let next = (current.load(ordering: .relaxed) + 1) % Self.windowCount
        windows.clear(from: next * Self.bucketCount, count: Self.bucketCount)
        current.store(next, ordering: .relaxed)
    }

    package var observations: Int64 { count.load(ordering: .relaxed) }
    package var sumSeconds: Double { Double(sumNanos.load(ordering: .relaxed)) / 1e9 }

    /// The quantile in seconds over the live windows; nil when they hold no observation (Go
    /// prints NaN then).
    package func quantile(_ q: Double) -> Double? {
        guard let windows = storage.load() else { return nil }
        var merged = [Int64](repeating: 0, count: Self.bucketCount)
        for w in 0..<Self.windowCount {
            for b in 0..<Self.bucketCount { merged[b] += windows.load(w * Self.bucketCount + b) }
        }
        let total = merged.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int64((q * Double(total)).rounded(.up)))
        var seen: Int64 = 0
        for (b, n) in merged.enumerated() {
            seen += n
            if seen >= rank { return Self.representative(b) / 1e9 }
        }
        return Self.representative(Self.bucketCount - 1) / 1e9
    }

    /// The bucket of a value: exact below 32 ns, then 16 per power of two.
    static func bucket(_ v: UInt64) -> Int {
        if v < 32 { return Int(v) }
        let e = 63 - v.leadingZeroBitCount
        if e > maxExponent { return bucketCount - 1 }
        let mantissa = Int((v >> UInt64(e - subBits)) & 15)
        return 16 + (e - subBits) * 16 + mantissa
    }

    /// The middle of a bucket's range (its lower bound below 32 ns, where buckets are exact).
    static func representative(_ b: Int) -> Double {
        if b < 32 { return Double(b) }
        let group = (b - 16) / 16
        let mantissa = (b - 16) % 16
        let width = Double(UInt64(1) << UInt64(group))
        return Double(16 + mantissa) * width + width / 2
    }
}

/// The windows' counters in one allocation.
final class WindowStorage: @unchecked Sendable {
    private let counters: UnsafeMutablePointer<Int64.AtomicRepresentation>
    private let size = SummaryCell.windowCount * SummaryCell.bucketCount

    init() {
        counters = .allocate(capacity: size)
        counters.initialize(repeating: Int64.AtomicRepresentation(0), count: size)
    }

    deinit {
        counters.deinitialize(count: size)
        counters.deallocate()
    }

    func increment(_ i: Int) { UnsafeAtomic<Int64>(at: counters + i).wrappingIncrement(ordering: .relaxed) }
    func load(_ i: Int) -> Int64 { UnsafeAtomic<Int64>(at: counters + i).load(ordering: .relaxed) }
    func clear(from start: Int, count: Int) {
        for i in start..<(start + count) { UnsafeAtomic<Int64>(at: counters + i).store(0, ordering: .relaxed) }
    }
}
