import StrataCore

/// Connect reply body (client-protocol.md §6). Zero values are omitted on the wire.
public struct ConnectResult: Sendable {
    public var client = ""
    public var version = ""
    public var expires = false
    public var ttl: UInt32 = 0
    public var data: [UInt8]?
    public var subs: [(channel: String, result: SubscribeResult)] = []
    public var ping: UInt32 = 0
    public var pong = false
    public var session = ""
    public var node = ""
    public var time: Int64 = 0

    public init() {}
}

/// A publication as one subscriber receives it: possibly a fossil delta, possibly with `data`
/// carried as a JSON string (delta-negotiated subscriptions on the JSON protocol).
public struct WirePublication: Sendable {
    public var publication: Publication
    /// `data` is a delta against the previous publication's payload.
    public var isDelta: Bool

    public init(_ publication: Publication, isDelta: Bool = false) {
        self.publication = publication
        self.isDelta = isDelta
    }
}

/// Subscribe reply body (client-protocol.md §8); also the values of `ConnectResult.subs`.
public struct SubscribeResult: Sendable {
    public var expires = false
    public var ttl: UInt32 = 0
    public var recoverable = false
    public var epoch = ""
    public var publications: [WirePublication] = []
    public var recovered = false
    public var offset: UInt64 = 0
    public var positioned = false
    public var data: [UInt8]?
    public var wasRecovering = false
    /// Delta negotiated: publication `data` travels as a JSON string on the JSON protocol.
    public var delta = false

    public init() {}
}

/// Server-side subscription added at runtime (push `subscribe`).
public struct SubscribePush: Sendable {
    public var recoverable = false
    public var epoch = ""
    public var offset: UInt64 = 0
    public var positioned = false
    public var data: [UInt8]?

    public init() {}
}

/// The body of a successful reply, one case per command.
public enum ReplyResult: Sendable {
    case connect(ConnectResult)
    case subscribe(SubscribeResult)
    case unsubscribe
    case publish
    case presence([ClientInfo])
    case presenceStats(numClients: UInt32, numUsers: UInt32)
    case history(publications: [Publication], top: StreamPosition)
    case rpc(data: [UInt8]?)
    case refresh(expires: Bool, ttl: UInt32)
    case subRefresh(expires: Bool, ttl: UInt32)
}
