import Metrics
import StrataCore

/// Server API metrics under Centrifugo's names: each command's duration (summary and
/// histogram) and its errors by code, labelled `protocol="http"` (the only API protocol here).
struct APIMetrics: Sendable {
    private let durations = Dictionary(
        uniqueKeysWithValues: ServerAPI.methods.map { m in
            (m, LazyReference { Timer(label: "centrifugo_api_command_duration_seconds", dimensions: [("protocol", "http"), ("method", m)]) })
        })

    func duration(_ method: String, since started: ContinuousClock.Instant) {
        durations[method]?.value.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
    }

    /// Errors are rare: their series are made when they happen.
    func error(_ method: String, code: UInt32) {
        Counter(label: "centrifugo_api_command_errors_total", dimensions: [("protocol", "http"), ("method", method), ("error", String(code))])
            .increment()
    }
}
