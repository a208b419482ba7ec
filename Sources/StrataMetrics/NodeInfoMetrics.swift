import StrataCore

/// The `metrics` object of the server API's `info` per node (what the admin UI's status page
/// reads): every `centrifugo_*` series flattened to a dotted key, as Centrifugo does it.
///
/// A snapshot is taken at start and then every `node.info_metrics_aggregate_interval`; `info`
/// answers with the last one. Keys: the family name split at its first two underscores
/// (`centrifugo.node.messages_sent_count`), then for summaries `.sum`, `.count` or
/// `.quantile.99`, then each label as `.name.value` in label-name order, labels with an empty
/// value left out. Counters (and summary sums and counts) report the increase since the previous
/// snapshot — the first holds totals —, gauges and quantiles their value now. Histograms are not
/// reported.
package final class NodeInfoMetrics: Sendable {
    private let registry: MetricsRegistry
    package let intervalSeconds: Double
    private let state = Locked(State())

    struct State {
        var previous: [String: Double] = [:]
        var items: [(String, Double)] = []
        var takenAtMillis: Int64 = 0
    }

    package init(registry: MetricsRegistry, intervalSeconds: Double) {
        self.registry = registry
        self.intervalSeconds = intervalSeconds
    }

    /// The last snapshot's items, sorted by key.
    package var items: [(String, Double)] { state.withLock { $0.items } }

    /// Takes a snapshot if none was taken yet or the interval has passed since the last one.
    package func refresh(nowMillis: Int64) {
        let due = state.withLock { s in s.takenAtMillis == 0 || Double(nowMillis - s.takenAtMillis) >= intervalSeconds * 1000 }
        if due { snapshot(nowMillis: nowMillis) }
    }

    package func snapshot(nowMillis: Int64) {
        var totals: [String: Double] = [:]
        var values: [String: Double] = [:]
        for (family, series) in registry.collect() where family.name.hasPrefix("centrifugo_") {
            let base = Self.baseKey(family.name)
            for (labels, s) in series {
                let suffix = Self.labelSuffix(labels)
                switch s {
                case .counter(let c): totals[base + suffix] = Double(c.current)
                case .gauge(let g): values[base + suffix] = g.current
                case .summary(let cell):
                    totals[base + ".sum" + suffix] = cell.sumSeconds
                    totals[base + ".count" + suffix] = Double(cell.observations)
                    for q in cell.quantiles {
                        if let v = cell.quantile(q) { values[base + ".quantile." + Self.quantileName(q) + suffix] = v }
                    }
                case .histogram: continue
                }
            }
        }
        state.withLock { s in
            for (key, total) in totals { values[key] = total - (s.previous[key] ?? 0) }
            s.previous = totals
            s.items = values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            s.takenAtMillis = nowMillis
        }
    }

    /// `centrifugo_node_messages_sent_count` → `centrifugo.node.messages_sent_count`.
    static func baseKey(_ name: String) -> String {
        var out = ""
        var underscores = 0
        for c in name {
            if c == "_" && underscores < 2 {
                underscores += 1
                out.append(".")
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func labelSuffix(_ labels: LabelSet) -> String {
        var out = ""
        for pair in labels.pairs where !pair.value.isEmpty { out += "." + pair.name + "." + pair.value }
        return out
    }

    /// 0.5 → "50", 0.99 → "99", 0.999 → "999" (the digits after "0.", padded to two).
    static func quantileName(_ q: Double) -> String {
        var digits = String(PrometheusExposition.format(q).dropFirst(2))
        if digits.count < 2 { digits += "0" }
        return digits
    }
}
