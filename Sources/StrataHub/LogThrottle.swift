import StrataCore

/// At most one log line per key every `intervalMillis`: a flood of the same event (a connection
/// flood refused, a mass reconnect that cannot recover) would otherwise write a line per client.
/// The events are still counted in metrics; the line says how many it stands for.
final class LogThrottle: Sendable {
    private struct Entry {
        var loggedAt: Int64
        var suppressed: Int
    }

    private let intervalMillis: Int64
    private let entries = Locked<[String: Entry]>([:])

    init(intervalMillis: Int64) {
        self.intervalMillis = intervalMillis
    }

    /// Nil when a line for `key` was written less than the interval ago (the event is counted);
    /// otherwise how many events of `key` went unlogged since the last line.
    func admit(_ key: String, nowMillis: Int64) -> Int? {
        entries.withLock { entries in
            if var entry = entries[key], nowMillis - entry.loggedAt < intervalMillis {
                entry.suppressed += 1
                entries[key] = entry
                return nil
            }
            let suppressed = entries[key]?.suppressed ?? 0
            entries[key] = Entry(loggedAt: nowMillis, suppressed: 0)
            return suppressed
        }
    }
}
