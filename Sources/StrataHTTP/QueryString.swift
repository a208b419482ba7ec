import Foundation

/// A request target's query string (`/path?a=1&b=2`), read the same way by every endpoint: the
/// server API's `?api_key=` and the WebSocket endpoint's `?format=` / `?cf_protocol=`.
package enum QueryString {
    /// The target's path and its query (nil without a `?`).
    package static func split(_ target: String) -> (path: Substring, query: Substring?) {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target[...], nil) }
        return (target[..<mark], target[target.utf8.index(after: mark)...])
    }

    /// The first value of `name`, percent-decoded, as Go's `Query().Get` finds it (`+` is a
    /// space, as browsers' `URLSearchParams` write one); nil when the name is absent or has no `=`.
    package static func value(of name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            let value = parts[1].replacingOccurrences(of: "+", with: " ")
            return value.removingPercentEncoding ?? value
        }
        return nil
    }
}
