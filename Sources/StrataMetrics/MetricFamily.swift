/// What a family of series is, as the Prometheus text format types it.
package enum MetricKind: Sendable, Equatable {
    case counter
    case gauge
    /// Quantiles over a sliding window, with all-time `_sum` and `_count` (Prometheus summary).
    case summary(quantiles: [Double])
    /// Cumulative buckets with these upper bounds (seconds for durations), `_sum`, `_count`.
    case histogram(buckets: [Double])

    var typeName: String {
        switch self {
        case .counter: "counter"
        case .gauge: "gauge"
        case .summary: "summary"
        case .histogram: "histogram"
        }
    }
}

/// One metric name with its type, help text and label names. Every name the server exports is
/// declared once (`MetricCatalogue`); a series is one combination of label values.
package struct MetricFamily: Sendable {
    package let name: String
    package let help: String
    package let kind: MetricKind
    /// Label names, in the order Centrifugo registers them (exposition sorts them by name).
    package let labels: [String]
    /// A summary's companion histogram family (`<name>_histogram`), fed by the same observations.
    package let companionHistogram: String?

    package init(_ name: String, _ kind: MetricKind, labels: [String] = [], help: String, companionHistogram: String? = nil) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.help = help
        self.companionHistogram = companionHistogram
    }
}

/// Label values of one series, ordered as Prometheus prints them (by label name); empty values
/// are kept (`channel_namespace=""` is a real label in Centrifugo's output).
package struct LabelSet: Hashable, Sendable, Comparable {
    package let pairs: [Label]

    package struct Label: Hashable, Sendable {
        package let name: String
        package let value: String
    }

    package init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { Label(name: $0.0, value: $0.1) }.sorted { $0.name < $1.name }
    }

    /// Fills in the family's labels the caller did not give with "" (Centrifugo's
    /// `channel_namespace` and `accept_protocol` are always "" in its open-source edition).
    init(_ given: [(String, String)], family: MetricFamily) {
        var all = given
        for name in family.labels where !given.contains(where: { $0.0 == name }) { all.append((name, "")) }
        self.init(all)
    }

    package static func < (a: LabelSet, b: LabelSet) -> Bool {
        for (x, y) in zip(a.pairs, b.pairs) where x != y {
            return x.name != y.name ? x.name < y.name : x.value < y.value
        }
        return a.pairs.count < b.pairs.count
    }
}
