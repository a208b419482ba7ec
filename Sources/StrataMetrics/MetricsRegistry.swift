import StrataCore

/// Every series the process exports, by family. Finding or making a series takes a lock; code
/// on hot paths keeps the handle it got (or a `LazyMetric`), so updates never do.
package final class MetricsRegistry: Sendable {
    private let table = Locked(Table())
    /// Run before each exposition and info snapshot, to set gauges that are read, not counted
    /// (connections, channels, store sizes).
    private let collectors = Locked<[@Sendable () -> Void]>([])
    private let lastRotation = Locked<Int64>(0)
    /// How often summaries start a new window (their quantiles cover five of these).
    static let rotationMillis: Int64 = 120_000

    package enum Series: Sendable {
        case counter(CounterCell)
        case gauge(GaugeCell)
        case summary(SummaryCell)
        case histogram(HistogramCell)
    }

    struct Table {
        var families: [String: MetricFamily] = [:]
        var series: [String: [LabelSet: Series]] = [:]
    }

    package init(families: [MetricFamily] = MetricCatalogue.all) {
        table.withLock { t in for f in families { t.families[f.name] = f } }
        for f in families { preCreate(f) }
    }

    package func family(_ name: String) -> MetricFamily? { table.withLock { $0.families[name] } }

    /// Declares a family a module uses without a catalogue entry (swift-metrics labels are free
    /// text), with the type its swift-metrics kind implies; an existing declaration wins.
    package func declareIfAbsent(_ family: MetricFamily) {
        table.withLock { t in if t.families[family.name] == nil { t.families[family.name] = family } }
    }

    package func counter(_ name: String, _ labels: [(String, String)] = []) -> CounterCell {
        if case .counter(let c) = series(name, labels) { return c }
        // A name declared with another type: counted nowhere. The end-to-end metrics tests,
        // which check that each family moves, would show it.
        return CounterCell()
    }

    package func gauge(_ name: String, _ labels: [(String, String)] = []) -> GaugeCell {
        if case .gauge(let g) = series(name, labels) { return g }
        return GaugeCell()
    }

    package func summary(_ name: String, _ labels: [(String, String)] = []) -> SummaryCell {
        if case .summary(let s) = series(name, labels) { return s }
        return SummaryCell(quantiles: [], companion: nil)
    }

    package func histogram(_ name: String, _ labels: [(String, String)] = []) -> HistogramCell {
        if case .histogram(let h) = series(name, labels) { return h }
        return HistogramCell(bounds: [])
    }

    /// The series of `name` with these labels, made on first use; nil for an undeclared name.
    package func series(_ name: String, _ labels: [(String, String)]) -> Series? {
        table.withLock { t in
            guard let family = t.families[name] else { return nil }
            let key = LabelSet(labels, family: family)
            if let existing = t.series[name]?[key] { return existing }
            let made: Series
            switch family.kind {
            case .counter: made = .counter(CounterCell())
            case .gauge: made = .gauge(GaugeCell())
            case .histogram(let buckets): made = .histogram(HistogramCell(bounds: buckets))
            case .summary(let quantiles):
                var companion: HistogramCell?
                if let h = family.companionHistogram, let hf = t.families[h], case .histogram(let buckets) = hf.kind {
                    let cell = HistogramCell(bounds: buckets)
                    companion = cell
                    t.series[h, default: [:]][LabelSet(labels, family: hf)] = .histogram(cell)
                }
                made = .summary(SummaryCell(quantiles: quantiles, companion: companion))
            }
            t.series[name, default: [:]][key] = made
            return made
        }
    }

    /// Series Centrifugo shows at zero before any use (its pre-created children).
    private func preCreate(_ family: MetricFamily) {
        for labels in MetricCatalogue.preCreated[family.name] ?? [] { _ = series(family.name, labels) }
    }

    package func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// Runs the collectors, then returns every series, families and series in exposition order.
    package func collect() -> [(MetricFamily, [(LabelSet, Series)])] {
        for c in collectors.withLock({ $0 }) { c() }
        let t = table.withLock { $0 }
        return t.series.keys.sorted().compactMap { name in
            guard let family = t.families[name], let s = t.series[name], !s.isEmpty else { return nil }
            return (family, s.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    /// Starts a new summary window when one is due (the server calls this every second).
    package func tick(nowMillis: Int64) {
        let due = lastRotation.withLock { last -> Bool in
            if last == 0 { last = nowMillis }
            guard nowMillis - last >= Self.rotationMillis else { return false }
            last = nowMillis
            return true
        }
        guard due else { return }
        for (_, s) in table.withLock({ $0.series }).flatMap({ $0.value }) {
            if case .summary(let cell) = s { cell.rotate() }
        }
    }
}
