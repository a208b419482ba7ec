import Foundation
import StrataConfig
import StrataCore

/// Maps channel names to namespace options and checks names, per `channel.*` config (docs/configuration.md).
package struct ChannelResolver: Sendable {
    package let config: StrataConfig.Channel
    private let namespaces: [String: ChannelOptions]
    private let regexes: [String: NSRegularExpressionBox]
    /// `config.privatePrefix` and `config.namespaceBoundary` as UTF-8: channel names are split as bytes.
    private let privatePrefix: [UInt8]
    private let boundary: [UInt8]

    package init(config: StrataConfig.Channel) {
        self.config = config
        self.privatePrefix = Array(config.privatePrefix.utf8)
        self.boundary = Array(config.namespaceBoundary.utf8)
        var namespaces: [String: ChannelOptions] = [:]
        var regexes: [String: NSRegularExpressionBox] = [:]
        for ns in config.namespaces {
            namespaces[ns.name] = ns
            if !ns.channelRegex.isEmpty, let re = try? NSRegularExpression(pattern: ns.channelRegex) {
                regexes[ns.name] = NSRegularExpressionBox(re)
            }
        }
        if !config.withoutNamespace.channelRegex.isEmpty,
            let re = try? NSRegularExpression(pattern: config.withoutNamespace.channelRegex)
        {
            regexes[""] = NSRegularExpressionBox(re)
        }
        self.namespaces = namespaces
        self.regexes = regexes
    }

    /// The namespace name of a channel ("" for none): private prefix stripped, split on the first
    /// boundary. Both compared as UTF-8 bytes, as Centrifugo does; this runs on every publish and
    /// subscribe, so it scans the bytes in place rather than through String's Unicode-aware views.
    package func namespaceName(of channel: String) -> String {
        guard !boundary.isEmpty else { return "" }
        var channel = channel
        return channel.withUTF8 { text in
            var start = 0
            if !privatePrefix.isEmpty, text.count >= privatePrefix.count, privatePrefix.elementsEqual(text[..<privatePrefix.count]) {
                start = privatePrefix.count
            }
            let name = UnsafeBufferPointer(rebasing: text[start...])
            guard let end = Self.firstOffset(of: boundary, in: name) else { return "" }
            return String(decoding: UnsafeBufferPointer(rebasing: name[..<end]), as: UTF8.self)
        }
    }

    /// Where `needle` first starts in `text` (an empty needle never matches).
    static func firstOffset(of needle: [UInt8], in text: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, needle.count <= text.count else { return nil }
        var index = 0
        while index <= text.count - needle.count {
            if text[index] == first {
                var matched = 1
                while matched < needle.count, text[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// Options for `channel`, or 102 for an unknown namespace.
    package func options(for channel: String) throws(StrataError) -> ChannelOptions {
        try options(namespace: namespaceName(of: channel))
    }

    private func options(namespace ns: String) throws(StrataError) -> ChannelOptions {
        if ns.isEmpty { return config.withoutNamespace }
        guard let o = namespaces[ns] else { throw .unknownChannel }
        return o
    }

    /// Checks length (107), namespace (102) and name rules (107: regex, or ASCII only without one).
    package func validate(_ channel: String) throws(StrataError) -> ChannelOptions {
        if channel.utf8.count > config.maxLength { throw .badRequest }
        let ns = namespaceName(of: channel)
        let options = try options(namespace: ns)
        if let re = regexes[ns] {
            // The name after the prefix and namespace, cut at the same bytes `namespaceName` used.
            var skip = isPrivate(channel) ? privatePrefix.count : 0
            if !ns.isEmpty { skip += ns.utf8.count + boundary.count }
            let s = String(Substring(channel.utf8.dropFirst(skip)))
            if re.value.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil { throw .badRequest }
        } else if !channel.utf8.allSatisfy({ $0 < 0x80 }) {
            throw .badRequest
        }
        return options
    }

    package func isPrivate(_ channel: String) -> Bool {
        !privatePrefix.isEmpty && channel.utf8.starts(with: privatePrefix)
    }

    /// For `ns:name#u1,u2` channels: whether `user` is listed.
    package func isUserAllowed(_ channel: String, user: String) -> Bool {
        guard !config.userBoundary.isEmpty, let r = channel.range(of: config.userBoundary, options: .backwards) else {
            return false
        }
        let users = channel[r.upperBound...].split(separator: Character(config.userSeparator.isEmpty ? "," : config.userSeparator))
        return users.contains { $0 == user }
    }

    package func hasUserBoundary(_ channel: String) -> Bool {
        !config.userBoundary.isEmpty && channel.contains(config.userBoundary)
    }

    /// Stream retention for a namespace, with the global meta TTL as fallback.
    package func retention(_ o: ChannelOptions) -> StreamRetention {
        StreamRetention(
            size: o.historySize, ttlSeconds: o.historyTTLSeconds,
            metaTTLSeconds: o.historyMetaTTLSeconds > 0 ? o.historyMetaTTLSeconds : config.historyMetaTTLSeconds)
    }
}

/// NSRegularExpression is thread-safe for matching but not marked Sendable.
struct NSRegularExpressionBox: @unchecked Sendable {
    let value: NSRegularExpression
    init(_ value: NSRegularExpression) { self.value = value }
}
