import StrataConfig
import StrataCore

/// A connection's state for one channel.
///
/// The fields a delivery reads come first, the channel's options (a large value) last: a
/// delivery then reads one or two cache lines of the subscription, not three.
struct Subscription: Sendable {
    // What a delivery reads comes first.
    /// Last delivered position; the epoch is adopted from the first publication when empty.
    var position = StreamPosition(offset: 0, epoch: "")
    /// Publications that arrived while the subscribe was in flight; nil once live.
    var buffer: [EncodedPublication]? = []
    /// The client's filter on publication tags (`tf`): live and recovered publications that do
    /// not match are not sent (a positioned subscription still advances past them).
    var tagsFilter: TagsFilter?
    /// When the position was last confirmed (a delivered publication or a position check), ms.
    var positionConfirmedAt: Int64 = 0
    /// The server tracks the client's stream position and detects gaps.
    var positioned = false
    /// Fossil delta negotiated: every publication's `data` travels as a JSON string.
    var delta = false
    /// The client holds a base (a full publication since subscribing, or a successful recovery):
    /// from now on publications published with delta may go as deltas.
    var deltaReady = false
    /// Who asked for the subscription; all but `.client` are server-side.
    var source: SubscriptionSource = .client
    var recoverable = false
    var pushJoinLeave = false
    var emitJoinLeave = false
    var presence = false
    var chanInfo: [UInt8]?
    /// Unix seconds; nil = never. Not refreshed (`sub_refresh`) by `expireAt` plus
    /// `client.expired_sub_close_delay`, the subscription ends (`ClientSession.expireSubscriptions`).
    var expireAt: Int64?
    /// A sub_refresh proxy call for this subscription is under way.
    var refreshingByProxy = false
    var options: ChannelOptions

    var isLive: Bool { buffer == nil }
    /// Its namespace has a sub_refresh proxy: the server refreshes it when it expires (the
    /// client is not told its expiry).
    var refreshedByProxy: Bool { options.subRefreshProxy != nil }
    /// Added by the server (token, connect request, server API) rather than by a client
    /// subscribe: such a subscription cannot be told to resubscribe, so losing its state ends
    /// the connection (3010) instead of the subscription (2500).
    var serverSide: Bool { source != .client }
}

/// Where a subscription came from (Centrifugo's `subsource`).
enum SubscriptionSource: Sendable, Equatable {
    /// A client `subscribe` command.
    case client
    /// The connection token's `subs` or `channels` claim. A `refresh` whose token grants a
    /// different set of channels ends the connection (3010), as Centrifugo does.
    case connectionToken
    /// A channel the client listed in its connect request's `subs` that it may subscribe anyway.
    case connectRequest
    /// The server API's `subscribe`.
    case serverAPI

    /// Set up while the connect command runs, before the connection counts as connected.
    var duringConnect: Bool { self == .connectionToken || self == .connectRequest }
}
