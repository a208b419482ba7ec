/// Why a connection is closed: sent as the WebSocket close code and reason (client-protocol.md §13).
///
/// SDKs reconnect for codes 3000–3499 and 4000–4499 and give up for 3500–3999 and 4500–4999.
public struct Disconnect: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: UInt16
    public let reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "disconnect \(code) \(reason)" }
    /// Whether a client is expected to reconnect after this disconnect.
    public var reconnect: Bool { !((3500..<4000).contains(code) || (4500..<5000).contains(code)) }

    public static let shutdown = Disconnect(code: 3001, reason: "shutdown")
    public static let serverError = Disconnect(code: 3004, reason: "internal server error")
    public static let expired = Disconnect(code: 3005, reason: "connection expired")
    public static let subExpired = Disconnect(code: 3006, reason: "subscription expired")
    public static let slow = Disconnect(code: 3008, reason: "slow")
    public static let writeError = Disconnect(code: 3009, reason: "write error")
    public static let insufficientState = Disconnect(code: 3010, reason: "insufficient state")
    public static let forceReconnect = Disconnect(code: 3011, reason: "force reconnect")
    public static let noPong = Disconnect(code: 3012, reason: "no pong")
    public static let tooManyRequests = Disconnect(code: 3013, reason: "too many requests")
    public static let invalidToken = Disconnect(code: 3500, reason: "invalid token")
    public static let badRequest = Disconnect(code: 3501, reason: "bad request")
    public static let stale = Disconnect(code: 3502, reason: "stale")
    public static let forceNoReconnect = Disconnect(code: 3503, reason: "force disconnect")
    public static let connectionLimit = Disconnect(code: 3504, reason: "connection limit")
    public static let channelLimit = Disconnect(code: 3505, reason: "channel limit")
    public static let inappropriateProtocol = Disconnect(code: 3506, reason: "inappropriate protocol")
    public static let permissionDenied = Disconnect(code: 3507, reason: "permission denied")
    public static let notAvailable = Disconnect(code: 3508, reason: "not available")
    public static let tooManyErrors = Disconnect(code: 3509, reason: "too many errors")
}

/// Why the server ended one subscription: sent in an `unsubscribe` push.
/// Codes ≥ 2500 make SDKs resubscribe (with recovery).
public struct Unsubscribe: Hashable, Sendable {
    public let code: UInt32
    public let reason: String

    public init(code: UInt32, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let server = Unsubscribe(code: 2000, reason: "server unsubscribe")
    public static let insufficientState = Unsubscribe(code: 2500, reason: "insufficient state")
    public static let expired = Unsubscribe(code: 2501, reason: "subscription expired")
}
