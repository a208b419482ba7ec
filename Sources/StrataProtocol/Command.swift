import StrataCore

/// A client → server command (client-protocol.md §4), independent of the wire format.
public struct Command: Sendable {
    /// Client-chosen id echoed in the reply; 0 only for `send` and for the pong.
    public var id: UInt32
    public var request: Request

    public init(id: UInt32, request: Request) {
        self.id = id
        self.request = request
    }

    public enum Request: Sendable {
        case connect(ConnectRequest)
        case subscribe(SubscribeRequest)
        case unsubscribe(channel: String)
        case publish(channel: String, data: [UInt8])
        case presence(channel: String)
        case presenceStats(channel: String)
        case history(HistoryRequest)
        case rpc(method: String, data: [UInt8])
        case send(data: [UInt8])
        case refresh(token: String)
        case subRefresh(channel: String, token: String)
        /// No request set: the answer to a server ping when `id` is 0, a protocol error otherwise.
        case empty
        /// The legacy `ping` command: Centrifugo has no handler for it (3501).
        case legacyPing
    }
}

public struct ConnectRequest: Sendable {
    public var token = ""
    public var data: [UInt8]?
    /// Server-side subscriptions the client already knows, with positions for recovery.
    public var subs: [String: SubscribeRequest] = [:]
    public var name = ""
    public var version = ""

    public init() {}
}

public struct SubscribeRequest: Sendable {
    public var channel = ""
    public var token = ""
    public var recover = false
    public var epoch = ""
    public var offset: UInt64 = 0
    public var data: [UInt8]?
    public var positioned = false
    public var recoverable = false
    public var joinLeave = false
    public var delta = ""
    /// bit 1 (value 2): reply error 112 instead of an unrecovered result.
    public var flag: Int64 = 0
    public var hasTagsFilter = false

    public init() {}

    public static let rejectUnrecoveredFlag: Int64 = 2
}

public struct HistoryRequest: Sendable {
    public var channel = ""
    public var limit: Int32 = 0
    public var since: StreamPosition?
    public var reverse = false

    public init() {}
}
