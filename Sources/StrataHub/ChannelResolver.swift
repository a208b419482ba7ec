import Foundation
import StrataConfig
import StrataCore

/// Maps channel names to namespace options and checks names, per `channel.*` config (config.md §11).
public struct ChannelResolver: Sendable {
    public let config: StrataConfig.Channel
    private let namespaces: [String: ChannelOptions]
    private let regexes: [String: NSRegularExpressionBox]

    public init(config: StrataConfig.Channel) {
        self.config = config
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

    /// The namespace name of a channel ("" for none): private prefix stripped, split on the first boundary.
    public func namespaceName(of channel: String) -> String {
        var name = Substring(channel)
        if !config.privatePrefix.isEmpty, name.hasPrefix(config.privatePrefix) { name = name.dropFirst(config.privatePrefix.count) }
        guard !config.namespaceBoundary.isEmpty, let end = Self.firstIndex(of: config.namespaceBoundary, in: name) else { return "" }
        return String(name[..<end])
    }

    /// Where `needle` first starts in `text`, compared as UTF-8 bytes. Runs on every publish and
    /// subscribe; Foundation's `range(of:)` goes through NSString on Linux.
    static func firstIndex(of needle: String, in text: Substring) -> Substring.Index? {
        let utf8 = text.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index...].starts(with: needle.utf8) { return index }
            utf8.formIndex(after: &index)
        }
        return nil
    }

    /// Options for `channel`, or 102 for an unknown namespace.
    public func options(for channel: String) throws(StrataError) -> ChannelOptions {
        let ns = namespaceName(of: channel)
        if ns.isEmpty { return config.withoutNamespace }
        guard let o = namespaces[ns] else { throw .unknownChannel }
        return o
    }

    /// Checks length (107), namespace (102) and name rules (107: regex, or ASCII only without one).
    public func validate(_ channel: String) throws(StrataError) -> ChannelOptions {
        if channel.utf8.count > config.maxLength { throw .badRequest }
        let options = try options(for: channel)
        let ns = namespaceName(of: channel)
        if let re = regexes[ns] {
            var rest = Substring(channel)
            if rest.hasPrefix(config.privatePrefix) { rest = rest.dropFirst(config.privatePrefix.count) }
            if !ns.isEmpty { rest = rest.dropFirst(ns.count + config.namespaceBoundary.count) }
            let s = String(rest)
            if re.value.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil { throw .badRequest }
        } else if !channel.utf8.allSatisfy({ $0 < 0x80 }) {
            throw .badRequest
        }
        return options
    }

    public func isPrivate(_ channel: String) -> Bool {
        !config.privatePrefix.isEmpty && channel.hasPrefix(config.privatePrefix)
    }

    /// For `ns:name#u1,u2` channels: whether `user` is listed.
    public func isUserAllowed(_ channel: String, user: String) -> Bool {
        guard !config.userBoundary.isEmpty, let r = channel.range(of: config.userBoundary, options: .backwards) else {
            return false
        }
        let users = channel[r.upperBound...].split(separator: Character(config.userSeparator.isEmpty ? "," : config.userSeparator))
        return users.contains { $0 == user }
    }

    public func hasUserBoundary(_ channel: String) -> Bool {
        !config.userBoundary.isEmpty && channel.contains(config.userBoundary)
    }

    /// Stream retention for a namespace, with the global meta TTL as fallback.
    public func retention(_ o: ChannelOptions) -> StreamRetention {
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
