import StrataCore

/// Per-subscription overrides of namespace options carried in tokens (`{"presence":{"value":true}}`).
package struct SubscriptionOverride: Equatable, Sendable {
    package var presence: Bool?
    package var joinLeave: Bool?
    package var forcePushJoinLeave: Bool?
    package var forcePositioning: Bool?
    package var forceRecovery: Bool?

    package init() {}
}

/// Options of a server-side subscription listed in a connection token's `subs` claim.
package struct TokenSubscribeOptions: Equatable, Sendable {
    package var info: [UInt8]?
    package var data: [UInt8]?
    package var override = SubscriptionOverride()

    package init() {}
}

/// A verified connection token (docs/protocol/client-protocol.md §14).
package struct ConnectionClaims: Equatable, Sendable {
    package var user = ""
    /// `exp`, unix seconds; nil when absent.
    package var expiresAt: Int64?
    /// `expire_at` overrides `exp` for the connection lifetime; 0 means never. nil when absent.
    package var expireAt: Int64?
    package var info: [UInt8]?
    /// `meta`: kept with the connection, never sent to the client; proxies include it
    /// (`include_connection_meta`).
    package var meta: [UInt8]?
    package var channels: [String] = []
    package var subs: [String: TokenSubscribeOptions] = [:]

    package init() {}

    /// When the connection expires (unix seconds), or nil for never.
    package var connectionExpiry: Int64? {
        if let expireAt { return expireAt == 0 ? nil : expireAt }
        return expiresAt
    }
}

/// A verified subscription token.
package struct SubscriptionClaims: Equatable, Sendable {
    package var user = ""
    package var channel = ""
    package var client = ""
    package var expiresAt: Int64?
    package var expireAt: Int64?
    package var info: [UInt8]?
    package var data: [UInt8]?
    package var override = SubscriptionOverride()

    package init() {}

    /// When the subscription expires (unix seconds), or nil for never. Unlike the connection's,
    /// the subscription ttl is not capped, but it travels as a uint32: expiries past
    /// `SubscriptionClaims.maxExpiry` (2106-02-07) are treated as that moment.
    package var subscriptionExpiry: Int64? {
        let expiry: Int64?
        if let expireAt { expiry = expireAt == 0 ? nil : expireAt } else { expiry = expiresAt }
        return expiry.map { min($0, Self.maxExpiry) }
    }

    /// The latest expiry a subscription can have, so that `expiry - now` fits a uint32 ttl.
    package static let maxExpiry = Int64(UInt32.max)
}

/// Why a token was refused: `invalid` maps to disconnect 3500 (or error 103 for subscription
/// tokens), `expired` to error 109.
package enum TokenError: Error, Equatable, Sendable {
    case invalid(String)
    case expired
}
