/// How long to wait before the next connect attempt after consecutive failures (to Redis, NATS).
///
/// Exponential with "equal jitter": the delay is drawn from [d/2, d] where d doubles per failure
/// up to `maximum`. The jitter spreads the reconnects of many nodes (and pool slots) after a
/// server restart; the fixed half keeps a failing server from being hammered.
package struct ReconnectBackoff: Sendable, Hashable {
    package var initial: Duration
    package var maximum: Duration

    package init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay after `failures` consecutive failed attempts (1 or more).
    package func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        var ceiling = initial
        for _ in 1..<max(1, failures) where ceiling < maximum { ceiling *= 2 }
        ceiling = min(ceiling, maximum)
        let nanoseconds = max(1, ceiling.nanoseconds)
        return .nanoseconds(Int64.random(in: (nanoseconds / 2)...nanoseconds, using: &generator))
    }

    package func delay(afterFailures failures: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &generator)
    }
}
