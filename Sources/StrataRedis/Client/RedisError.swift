/// A failed Redis operation: what kind of failure (`code`) and the detail (`message`).
///
/// A struct over a private enum, so failure kinds can be added without breaking callers that
/// switch on them; compare with `error.code == .connectionClosed`.
package struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectFailed, connectionClosed, timeout, protocolError, serverError, unexpectedReply
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The TCP connection could not be made (refused, unreachable, or not within `connectTimeout`).
        package static let connectFailed = Code(.connectFailed)
        /// The connection was closed or lost; commands in flight on it may or may not have run.
        package static let connectionClosed = Code(.connectionClosed)
        /// No reply within `ioTimeout`. The connection is closed, because later replies could no
        /// longer be matched to their commands.
        package static let timeout = Code(.timeout)
        /// The server sent bytes that are not RESP (hiredis's message); the connection is closed.
        package static let protocolError = Code(.protocolError)
        /// Redis answered with an error reply (`-ERR ...`); the connection is fine.
        package static let serverError = Code(.serverError)
        /// A reply of a shape the caller did not expect.
        package static let unexpectedReply = Code(.unexpectedReply)

        package var description: String {
            switch base {
            case .connectFailed: "connect failed"
            case .connectionClosed: "connection closed"
            case .timeout: "timeout"
            case .protocolError: "protocol error"
            case .serverError: "server error"
            case .unexpectedReply: "unexpected reply"
            }
        }
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "redis \(code): \(message)" }
}
