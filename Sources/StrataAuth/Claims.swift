import StrataCore

/// Per-subscription overrides of namespace options carried in tokens (`{"presence":{"value":true}}`).
public struct SubscriptionOverride: Equatable, Sendable {
    public var presence: Bool?
    public var joinLeave: Bool?
    public var forcePushJoinLeave: Bool?
    public var forcePositioning: Bool?
    public var forceRecovery: Bool?

    public init() {}
}

/// Options of a server-side subscription listed in a connection token's `subs` claim.
public struct TokenSubscribeOptions: Equatable, Sendable {
    public var info: [UInt8]?
    public var data: [UInt8]?
    public var override = SubscriptionOverride()

    public init() {}
}

/// A verified connection token (client-protocol.md §14).
public struct ConnectionClaims: Equatable, Sendable {
    public var user = ""
    /// `exp`, unix seconds; nil when absent.
    public var expiresAt: Int64?
    /// `expire_at` overrides `exp` for the connection lifetime; 0 means never. nil when absent.
    public var expireAt: Int64?
    public var info: [UInt8]?
    public var channels: [String] = []
    public var subs: [String: TokenSubscribeOptions] = [:]

    public init() {}

    /// When the connection expires (unix seconds), or nil for never.
    public var connectionExpiry: Int64? {
        if let expireAt { return expireAt == 0 ? nil : expireAt }
        return expiresAt
    }
}

/// A verified subscription token.
public struct SubscriptionClaims: Equatable, Sendable {
    public var user = ""
    public var channel = ""
    public var client = ""
    public var expiresAt: Int64?
    public var expireAt: Int64?
    public var info: [UInt8]?
    public var data: [UInt8]?
    public var override = SubscriptionOverride()

    public init() {}

    /// When the subscription expires (unix seconds), or nil for never. Unlike the connection's,
    /// the subscription ttl is not capped, but it travels as a uint32: expiries past
    /// `SubscriptionClaims.maxExpiry` (2106-02-07) are treated as that moment.
    public var subscriptionExpiry: Int64? {
        let expiry: Int64?
        if let expireAt { expiry = expireAt == 0 ? nil : expireAt } else { expiry = expiresAt }
        return expiry.map { min($0, Self.maxExpiry) }
    }

    /// The latest expiry a subscription can have, so that `expiry - now` fits a uint32 ttl.
    public static let maxExpiry = Int64(UInt32.max)
}

/// Why a token was refused: `invalid` maps to disconnect 3500 (or error 103 for subscription
/// tokens), `expired` to error 109.
public enum TokenError: Error, Equatable, Sendable {
    case invalid(String)
    case expired
}
