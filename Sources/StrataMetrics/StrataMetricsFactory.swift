import CoreMetrics

/// The swift-metrics backend: `Counter`, `Gauge`, `Meter`, `Recorder` and `Timer` made anywhere
/// in the server land in the registry's series, under the label as the family name and the
/// dimensions as labels. A `Timer` on a summary family feeds the summary and its `_histogram`
/// companion; on a histogram family, the histogram (in seconds).
package struct StrataMetricsFactory: MetricsFactory {
    package let registry: MetricsRegistry

    package init(registry: MetricsRegistry) {
        self.registry = registry
    }

    package func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.declareIfAbsent(MetricFamily(label, .counter, labels: dimensions.map(\.0), help: label))
        return registry.counter(label, dimensions)
    }

    package func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.declareIfAbsent(MetricFamily(label, .gauge, labels: dimensions.map(\.0), help: label))
        return registry.gauge(label, dimensions)
    }

    package func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if !aggregate {
            registry.declareIfAbsent(MetricFamily(label, .gauge, labels: dimensions.map(\.0), help: label))
            return registry.gauge(label, dimensions)
        }
        registry.declareIfAbsent(
            MetricFamily(label, .histogram(buckets: MetricCatalogue.defaultBuckets), labels: dimensions.map(\.0), help: label))
        return HistogramRecorder(cell: registry.histogram(label, dimensions))
    }

    package func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.declareIfAbsent(
            MetricFamily(label, .histogram(buckets: MetricCatalogue.defaultBuckets), labels: dimensions.map(\.0), help: label))
        switch registry.series(label, dimensions) {
        case .summary(let s): return SummaryTimer(cell: s)
        case .histogram(let h): return HistogramTimer(cell: h)
        default: return HistogramTimer(cell: HistogramCell(bounds: []))
        }
    }

    // Series live as long as the process: nothing to release.
    package func destroyCounter(_ handler: any CounterHandler) {}
    package func destroyMeter(_ handler: any MeterHandler) {}
    package func destroyRecorder(_ handler: any RecorderHandler) {}
    package func destroyTimer(_ handler: any TimerHandler) {}
}

final class SummaryTimer: TimerHandler, Sendable {
    let cell: SummaryCell
    init(cell: SummaryCell) { self.cell = cell }
    func recordNanoseconds(_ duration: Int64) { cell.observe(nanoseconds: duration) }
}

final class HistogramTimer: TimerHandler, Sendable {
    let cell: HistogramCell
    init(cell: HistogramCell) { self.cell = cell }
    func recordNanoseconds(_ duration: Int64) { cell.observe(Double(duration) / 1e9) }
}

final class HistogramRecorder: RecorderHandler, Sendable {
    let cell: HistogramCell
    init(cell: HistogramCell) { self.cell = cell }
    func record(_ value: Int64) { cell.observe(Double(value)) }
    func record(_ value: Double) { cell.observe(value) }
}
