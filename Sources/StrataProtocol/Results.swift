import StrataCore

/// Connect reply body (docs/protocol/client-protocol.md §6). Zero values are omitted on the wire.
package struct ConnectResult: Sendable {
    package var client = ""
    package var version = ""
    package var expires = false
    package var ttl: UInt32 = 0
    package var data: [UInt8]?
    package var subs: [(channel: String, result: SubscribeResult)] = []
    package var ping: UInt32 = 0
    package var pong = false
    package var session = ""
    package var node = ""
    package var time: Int64 = 0

    package init() {}
}

/// A publication as one subscriber receives it: possibly a fossil delta, possibly with `data`
/// carried as a JSON string (delta-negotiated subscriptions on the JSON protocol).
package struct WirePublication: Sendable {
    package var publication: Publication
    /// `data` is a delta against the previous publication's payload.
    package var isDelta: Bool
    /// The epoch of the stream the publication is in, when the sender knows it ("" otherwise).
    /// Not sent by the client protocol's codecs; one-way SSE puts it in the event id.
    package var streamEpoch: String

    package init(_ publication: Publication, isDelta: Bool = false, streamEpoch: String = "") {
        self.publication = publication
        self.isDelta = isDelta
        self.streamEpoch = streamEpoch
    }
}

/// Subscribe reply body (docs/protocol/client-protocol.md §8); also the values of `ConnectResult.subs`.
package struct SubscribeResult: Sendable {
    package var expires = false
    package var ttl: UInt32 = 0
    package var recoverable = false
    package var epoch = ""
    package var publications: [WirePublication] = []
    package var recovered = false
    package var offset: UInt64 = 0
    package var positioned = false
    package var data: [UInt8]?
    package var wasRecovering = false
    /// Delta negotiated: publication `data` travels as a JSON string on the JSON protocol.
    package var delta = false
    /// Strata's own: why a recovery that was asked for failed (`RecoveryFailure`'s raw value),
    /// empty otherwise. JSON key `recovery_failure`, Protobuf field 1001 of `SubscribeResult`:
    /// neither is in Centrifugo's protocol, so existing SDKs skip it (`docs/recovery.md`).
    package var recoveryFailure = ""

    package init() {}
}

/// Server-side subscription added at runtime (push `subscribe`).
package struct SubscribePush: Sendable {
    package var recoverable = false
    package var epoch = ""
    package var offset: UInt64 = 0
    package var positioned = false
    package var data: [UInt8]?

    package init() {}
}

/// The body of a successful reply, one case per command.
package enum ReplyResult: Sendable {
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
