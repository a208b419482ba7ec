import Foundation

/// Go-style durations ("300s", "1m30s", "720h", "1000ms", "-1"), as Centrifugo writes them.
package enum Durations {
    /// The longest duration: what Go's `time.Duration` holds (2^63 ns, about 292 years), so a
    /// duration Centrifugo accepts is accepted, and any duration converts to nanoseconds (NIO's
    /// timers) without overflowing. Longer ones are refused, as Go's parser refuses them.
    package static let maxMillis = Int64.max / 1_000_000

    /// Parses to milliseconds. A bare number means seconds; "-1" (or -1) disables a timer. Nil
    /// for text that is not a duration, or one longer than `maxMillis`.
    package static func parseMillis(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return nil }
        if let n = Int64(t) { return seconds(n) }
        var negative = false
        var rest = Substring(t)
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        var total: Double = 0
        while !rest.isEmpty {
            let numberPart = rest.prefix { $0.isNumber || $0 == "." }
            guard !numberPart.isEmpty, let value = Double(numberPart) else { return nil }
            rest = rest.dropFirst(numberPart.count)
            let unitPart = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unitPart.count)
            let scale: Double
            switch unitPart {
            case "h": scale = 3_600_000
            case "m": scale = 60_000
            case "s": scale = 1000
            case "ms": scale = 1
            case "us", "µs": scale = 0.001
            case "ns": scale = 0.000_001
            default: return nil
            }
            total += value * scale
        }
        if negative { return -1 }
        guard total.isFinite, total.rounded() <= Double(maxMillis) else { return nil }
        return Int64(total.rounded())
    }

    /// A bare number of seconds in milliseconds: -1 when negative, nil past `maxMillis`.
    package static func seconds(_ n: Int64) -> Int64? {
        if n < 0 { return -1 }
        return n <= maxMillis / 1000 ? n * 1000 : nil
    }
}

