/// Why a connection is closed: sent as the WebSocket close code and reason (docs/protocol/client-protocol.md §13).
///
/// SDKs reconnect for codes 3000–3499 and 4000–4499 and give up for 3500–3999 and 4500–4999.
package struct Disconnect: Error, Hashable, Sendable, CustomStringConvertible {
    package let code: UInt16
    package let reason: String

    package init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { "disconnect \(code) \(reason)" }
    /// Whether a client is expected to reconnect after this disconnect.
    package var reconnect: Bool { !((3500..<4000).contains(code) || (4500..<5000).contains(code)) }

    package static let shutdown = Disconnect(code: 3001, reason: "shutdown")
    package static let serverError = Disconnect(code: 3004, reason: "internal server error")
    package static let expired = Disconnect(code: 3005, reason: "connection expired")
    package static let subExpired = Disconnect(code: 3006, reason: "subscription expired")
    package static let slow = Disconnect(code: 3008, reason: "slow")
    package static let writeError = Disconnect(code: 3009, reason: "write error")
    package static let insufficientState = Disconnect(code: 3010, reason: "insufficient state")
    package static let forceReconnect = Disconnect(code: 3011, reason: "force reconnect")
    package static let noPong = Disconnect(code: 3012, reason: "no pong")
    package static let tooManyRequests = Disconnect(code: 3013, reason: "too many requests")
    package static let invalidToken = Disconnect(code: 3500, reason: "invalid token")
    package static let badRequest = Disconnect(code: 3501, reason: "bad request")
    package static let stale = Disconnect(code: 3502, reason: "stale")
    package static let forceNoReconnect = Disconnect(code: 3503, reason: "force disconnect")
    package static let connectionLimit = Disconnect(code: 3504, reason: "connection limit")
    package static let channelLimit = Disconnect(code: 3505, reason: "channel limit")
    package static let inappropriateProtocol = Disconnect(code: 3506, reason: "inappropriate protocol")
    package static let permissionDenied = Disconnect(code: 3507, reason: "permission denied")
    package static let notAvailable = Disconnect(code: 3508, reason: "not available")
    package static let tooManyErrors = Disconnect(code: 3509, reason: "too many errors")
}

/// Why the server ended one subscription: sent in an `unsubscribe` push.
/// Codes ≥ 2500 make SDKs resubscribe (with recovery).
package struct Unsubscribe: Hashable, Sendable {
    package let code: UInt32
    package let reason: String

    package init(code: UInt32, reason: String) {
        self.code = code
        self.reason = reason
    }

    package static let server = Unsubscribe(code: 2000, reason: "server unsubscribe")
    package static let insufficientState = Unsubscribe(code: 2500, reason: "insufficient state")
    package static let expired = Unsubscribe(code: 2501, reason: "subscription expired")
}
