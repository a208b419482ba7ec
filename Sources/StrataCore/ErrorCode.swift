/// An error answered to a client command or a server API call.
///
/// Codes and messages are Centrifugo's (client-protocol.md §5, server-api.md §1): SDKs act on the
/// code, so they are fixed by the protocol and kept as static members, not an open enum.
public struct StrataError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: UInt32
    public let message: String
    /// Temporary errors are retried by SDKs with backoff.
    public let temporary: Bool

    public init(code: UInt32, message: String, temporary: Bool = false) {
        self.code = code
        self.message = message
        self.temporary = temporary
    }

    public var description: String { "\(code) \(message)" }

    public static let internalError = StrataError(code: 100, message: "internal server error", temporary: true)
    public static let unauthorized = StrataError(code: 101, message: "unauthorized")
    public static let unknownChannel = StrataError(code: 102, message: "unknown channel")
    public static let permissionDenied = StrataError(code: 103, message: "permission denied")
    public static let methodNotFound = StrataError(code: 104, message: "method not found")
    public static let alreadySubscribed = StrataError(code: 105, message: "already subscribed")
    public static let limitExceeded = StrataError(code: 106, message: "limit exceeded")
    public static let badRequest = StrataError(code: 107, message: "bad request")
    public static let notAvailable = StrataError(code: 108, message: "not available")
    public static let tokenExpired = StrataError(code: 109, message: "token expired")
    public static let expired = StrataError(code: 110, message: "expired")
    public static let tooManyRequests = StrataError(code: 111, message: "too many requests", temporary: true)
    public static let unrecoverablePosition = StrataError(code: 112, message: "unrecoverable position")

    /// The server API's spelling of 104 (server-api.md: "not found"), and its errors carry no `temporary`.
    public static let apiNotFound = StrataError(code: 104, message: "not found")
    public static let apiInternal = StrataError(code: 100, message: "internal server error")
}
