import StrataCore
import StrataDelta
import StrataProtocol

/// Which payload a delta subscriber gets (delta.md B.2–B.3).
enum DeltaPayload {
    /// A fossil delta from `previous` to `current`, or nil when the full payload must go instead:
    /// the delta is not smaller, or (JSON protocol) it is not valid UTF-8 — a JSON string cannot
    /// carry broken multi-byte characters, and clients would fail the checksum.
    static func make(previous: [UInt8], current: [UInt8]) -> [UInt8]? {
        let delta = DeltaEncoder.create(source: previous, target: current)
        guard delta.count < current.count, String(validating: delta, as: UTF8.self) != nil else { return nil }
        return delta
    }

    /// Recovered publications for a delta subscriber: the first full, each next one a delta
    /// against its predecessor where that is smaller (B.4).
    static func chain(_ publications: [Publication]) -> [WirePublication] {
        var out: [WirePublication] = []
        out.reserveCapacity(publications.count)
        var previous: Publication?
        for p in publications {
            if let prev = previous, prev.offset + 1 == p.offset, let delta = make(previous: prev.data, current: p.data) {
                var d = p
                d.data = delta
                out.append(WirePublication(d, isDelta: true))
            } else {
                out.append(WirePublication(p))
            }
            previous = p
        }
        return out
    }
}
