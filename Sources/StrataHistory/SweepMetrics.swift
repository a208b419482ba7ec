import Metrics

/// The expiry sweeper's progress, per store: batches run and records (publications, stream
/// metas, idempotency keys) removed.
package struct SweepMetrics: Sendable {
    private let batches: Counter
    private let records: Counter

    package init(store: String) {
        batches = Counter(label: "strata_history_sweeps_total", dimensions: [("store", store)])
        records = Counter(label: "strata_history_swept_records_total", dimensions: [("store", store)])
    }

    package func record(batchOf removed: Int) {
        batches.increment()
        if removed > 0 { records.increment(by: removed) }
    }
}
