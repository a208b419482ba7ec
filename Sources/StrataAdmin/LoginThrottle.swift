import StrataCore

/// Failed admin logins per client address: after `maxFailures` within `windowMillis`, further
/// attempts from that address are refused (HTTP 429) until the window has passed, whatever the
/// password. Centrifugo's docs promise this; its v6.9.1 code has none. A success clears the
/// address's count. The table forgets windows that ended, so it holds only recent offenders.
package final class LoginThrottle: Sendable {
    package let maxFailures: Int
    package let windowMillis: Int64
    private let failures = Locked<[String: Window]>([:])

    struct Window {
        var startedAt: Int64
        var count: Int
    }

    package init(maxFailures: Int = 5, windowMillis: Int64 = 60_000) {
        self.maxFailures = maxFailures
        self.windowMillis = windowMillis
    }

    /// Whether `address` may try a password now.
    package func allows(_ address: String, nowMillis: Int64) -> Bool {
        failures.withLock { table in
            guard let w = table[address] else { return true }
            if nowMillis - w.startedAt >= windowMillis {
                table[address] = nil
                return true
            }
            return w.count < maxFailures
        }
    }

    package func failed(_ address: String, nowMillis: Int64) {
        failures.withLock { table in
            if table.count > 10_000 { table = table.filter { nowMillis - $0.value.startedAt < windowMillis } }
            if var w = table[address], nowMillis - w.startedAt < windowMillis {
                w.count += 1
                table[address] = w
            } else {
                table[address] = Window(startedAt: nowMillis, count: 1)
            }
        }
    }

    package func succeeded(_ address: String) {
        failures.withLock { $0[address] = nil }
    }
}
