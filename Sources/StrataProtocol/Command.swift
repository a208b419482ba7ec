import StrataCore

/// A client → server command (docs/protocol/client-protocol.md §4), independent of the wire format.
package struct Command: Sendable {
    /// Client-chosen id echoed in the reply; 0 only for `send` and for the pong.
    package var id: UInt32
    package var request: Request

    package init(id: UInt32, request: Request) {
        self.id = id
        self.request = request
    }

    package enum Request: Sendable {
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

package struct ConnectRequest: Sendable {
    package var token = ""
    package var data: [UInt8]?
    /// Server-side subscriptions the client already knows, with positions for recovery.
    package var subs: [String: SubscribeRequest] = [:]
    package var name = ""
    package var version = ""
    /// `headers`: emulated request headers the client sets (proxies forward those named in
    /// their `emulated_headers`).
    package var headers: [String: String] = [:]

    package init() {}
}

package struct SubscribeRequest: Sendable {
    package var channel = ""
    package var token = ""
    package var recover = false
    package var epoch = ""
    package var offset: UInt64 = 0
    package var data: [UInt8]?
    package var positioned = false
    package var recoverable = false
    package var joinLeave = false
    package var delta = ""
    /// bit 1 (value 2): reply error 112 instead of an unrecovered result.
    package var flag: Int64 = 0
    /// `tf`: the client's filter on publication tags, as sent (compiled by the hub).
    package var tagsFilter: FilterNode?

    package init() {}

    package static let rejectUnrecoveredFlag: Int64 = 2
}

package struct HistoryRequest: Sendable {
    package var channel = ""
    package var limit: Int32 = 0
    package var since: StreamPosition?
    package var reverse = false

    package init() {}
}
