import StrataConfig
import StrataCore

/// A connection's state for one channel.
struct Subscription: Sendable {
    var options: ChannelOptions
    /// The server tracks the client's stream position and detects gaps.
    var positioned = false
    var recoverable = false
    /// Last delivered position; the epoch is adopted from the first publication when empty.
    var position = StreamPosition(offset: 0, epoch: "")
    /// Publications that arrived while the subscribe was in flight; nil once live.
    var buffer: [EncodedPublication]? = []
    var pushJoinLeave = false
    var emitJoinLeave = false
    var presence = false
    var chanInfo: [UInt8]?
    /// Added from the token or the server API rather than by a client subscribe.
    var serverSide = false
    /// Unix seconds; nil = never. Not refreshed (`sub_refresh`) by `expireAt` plus
    /// `client.expired_sub_close_delay`, the subscription ends (`ClientSession.expireSubscriptions`).
    var expireAt: Int64?
    /// Fossil delta negotiated: every publication's `data` travels as a JSON string.
    var delta = false
    /// The client holds a base (a full publication since subscribing, or a successful recovery):
    /// from now on publications published with delta may go as deltas.
    var deltaReady = false
    /// When the position was last confirmed (a delivered publication or a position check), ms.
    var positionConfirmedAt: Int64 = 0

    var isLive: Bool { buffer == nil }
}
