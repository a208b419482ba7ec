import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time, injectable so TTL tests run without sleeping.
package protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMillis() -> Int64
}

extension WallClock {
    package func nowSeconds() -> Int64 { nowMillis() / 1000 }
}

/// The system's real-time clock.
package struct SystemClock: WallClock {
    package init() {}

    package func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to; for tests of TTLs and timers.
package final class ManualClock: WallClock {
    private let millis: Mutex<Int64>

    package init(millis: Int64 = 1_767_225_600_000) {
        self.millis = Mutex(millis)
    }

    package func nowMillis() -> Int64 { millis.withLock { $0 } }

    package func advance(seconds: Int64) { millis.withLock { $0 += seconds * 1000 } }
    package func advance(millis delta: Int64) { millis.withLock { $0 += delta } }
}

extension Duration {
    /// Whole nanoseconds (what swift-metrics timers record), saturating: Strata's durations are
    /// far below 292 years, but one read from a config must not trap.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

/// A monotonic clock in nanoseconds (durations that wall-clock steps must not bend).
package enum MonotonicClock {
    package static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
