/// The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` per family, then
/// one line per sample; families sorted by name, label pairs by label name, as Go's client prints.
package enum PrometheusExposition {
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    package static func render(_ registry: MetricsRegistry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 * 1024)
        for (family, series) in registry.collect() {
            append("# HELP \(family.name) \(escapeHelp(family.help))\n", to: &out)
            append("# TYPE \(family.name) \(family.kind.typeName)\n", to: &out)
            for (labels, s) in series {
                switch s {
                case .counter(let c): line(family.name, labels, nil, format(Double(c.current)), &out)
                case .gauge(let g): line(family.name, labels, nil, format(g.current), &out)
                case .summary(let cell):
                    for q in cell.quantiles {
                        line(family.name, labels, ("quantile", format(q)), cell.quantile(q).map(format) ?? "NaN", &out)
                    }
                    line(family.name + "_sum", labels, nil, format(cell.sumSeconds), &out)
                    line(family.name + "_count", labels, nil, format(Double(cell.observations)), &out)
                case .histogram(let h):
                    let cumulative = h.cumulative
                    for (i, bound) in h.bounds.enumerated() {
                        line(family.name + "_bucket", labels, ("le", format(bound)), format(Double(cumulative[i])), &out)
                    }
                    line(family.name + "_bucket", labels, ("le", "+Inf"), format(Double(cumulative.last ?? 0)), &out)
                    line(family.name + "_sum", labels, nil, format(h.sum), &out)
                    line(family.name + "_count", labels, nil, format(Double(cumulative.last ?? 0)), &out)
                }
            }
        }
        return out
    }

    private static func line(_ name: String, _ labels: LabelSet, _ extra: (String, String)?, _ value: String, _ out: inout [UInt8]) {
        append(name, to: &out)
        if !labels.pairs.isEmpty || extra != nil {
            out.append(UInt8(ascii: "{"))
            var first = true
            for pair in labels.pairs {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                append("\(pair.name)=\"\(escapeValue(pair.value))\"", to: &out)
            }
            if let (name, value) = extra {
                if !first { out.append(UInt8(ascii: ",")) }
                append("\(name)=\"\(value)\"", to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: " "))
        append(value, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private static func append(_ s: String, to out: inout [UInt8]) { out.append(contentsOf: s.utf8) }

    /// Integers as integers (`3`, not `3.0`), other values in Swift's shortest form (`2.8788e-05`),
    /// which Prometheus parses like Go's.
    package static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// Label values escape backslash, double quote and newline; help text the first and last.
    static func escapeValue(_ s: String) -> String { escape(s, quote: true) }
    static func escapeHelp(_ s: String) -> String { escape(s, quote: false) }

    private static func escape(_ s: String, quote: Bool) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\n" || (quote && $0 == "\"") }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quote: out += "\\\""
            default: out.append(c)
            }
        }
        return out
    }
}
