#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `Date` response header (RFC 9110 §5.6.7, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`).
package enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The last second formatted: every response in that second reuses it.
    private static let cache = Mutex<(second: time_t, text: String)>((0, ""))

    package static func now() -> String {
        let second = time(nil)
        return cache.withLock { cached in
            if cached.second != second { cached = (second, format(secondsSince1970: second)) }
            return cached.text
        }
    }

    package static func format(secondsSince1970 seconds: time_t) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        var s = ""
        s.reserveCapacity(29)
        s += days[Int(parts.tm_wday) % 7]
        s += ", "
        s += twoDigits(parts.tm_mday)
        s += " "
        s += months[Int(parts.tm_mon) % 12]
        s += " "
        s += String(Int(parts.tm_year) + 1900)
        s += " "
        s += twoDigits(parts.tm_hour)
        s += ":"
        s += twoDigits(parts.tm_min)
        s += ":"
        s += twoDigits(parts.tm_sec)
        s += " GMT"
        return s
    }

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
