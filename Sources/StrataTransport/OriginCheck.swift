/// `client.allowed_origins`: empty allows only requests without an Origin header, `*` allows all,
/// otherwise glob patterns such as `https://*.example.com` (case-insensitive).
package struct OriginCheck: Sendable {
    let patterns: [String]

    package init(allowedOrigins: [String]) {
        patterns = allowedOrigins.map { $0.lowercased() }
    }

    package func allows(_ origin: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        if patterns.isEmpty { return false }
        let o = origin.lowercased()
        return patterns.contains { $0 == "*" || Self.glob($0[...], o[...]) }
    }

    /// `*` matches any run of characters.
    static func glob(_ pattern: Substring, _ text: Substring) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let prefix = pattern[..<star]
        guard text.hasPrefix(prefix) else { return false }
        let restPattern = pattern[pattern.index(after: star)...]
        var rest = text.dropFirst(prefix.count)
        while true {
            if glob(restPattern, rest) { return true }
            if rest.isEmpty { return false }
            rest = rest.dropFirst()
        }
    }
}
