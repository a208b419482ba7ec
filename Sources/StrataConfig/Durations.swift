import Foundation

/// Go-style durations ("300s", "1m30s", "720h", "1000ms", "-1"), as Centrifugo writes them.
package enum Durations {
    /// Parses to milliseconds. A bare number means seconds; "-1" (or -1) disables a timer.
    package static func parseMillis(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return nil }
        if let n = Int64(t) { return n < 0 ? -1 : n * 1000 }
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
        return Int64(total.rounded())
    }
}

