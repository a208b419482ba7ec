/// An error answered to a client command or a server API call.
///
/// Codes and messages are Centrifugo's (docs/protocol/client-protocol.md §5, docs/protocol/server-api.md §1): SDKs act on the
/// code, so they are fixed by the protocol and kept as static members, not an open enum.
package struct StrataError: Error, Hashable, Sendable, CustomStringConvertible {
    package let code: UInt32
    package let message: String
    /// Temporary errors are retried by SDKs with backoff.
    package let temporary: Bool

    package init(code: UInt32, message: String, temporary: Bool = false) {
        self.code = code
        self.message = message
        self.temporary = temporary
    }

    package var description: String { "\(code) \(message)" }

    package static let internalError = StrataError(code: 100, message: "internal server error", temporary: true)
    package static let unauthorized = StrataError(code: 101, message: "unauthorized")
    package static let unknownChannel = StrataError(code: 102, message: "unknown channel")
    package static let permissionDenied = StrataError(code: 103, message: "permission denied")
    package static let methodNotFound = StrataError(code: 104, message: "method not found")
    package static let alreadySubscribed = StrataError(code: 105, message: "already subscribed")
    package static let limitExceeded = StrataError(code: 106, message: "limit exceeded")
    package static let badRequest = StrataError(code: 107, message: "bad request")
    package static let notAvailable = StrataError(code: 108, message: "not available")
    package static let tokenExpired = StrataError(code: 109, message: "token expired")
    package static let expired = StrataError(code: 110, message: "expired")
    package static let tooManyRequests = StrataError(code: 111, message: "too many requests", temporary: true)
    package static let unrecoverablePosition = StrataError(code: 112, message: "unrecoverable position")

    /// The server API's spelling of 104 (server-api.md: "not found"), and its errors carry no `temporary`.
    package static let apiNotFound = StrataError(code: 104, message: "not found")
    package static let apiInternal = StrataError(code: 100, message: "internal server error")
}
