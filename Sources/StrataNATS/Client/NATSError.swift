/// A failed NATS operation, with what went wrong in words (never a password).
package struct NATSError: Error, Hashable, Sendable, CustomStringConvertible {
    package let message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { "nats: \(message)" }
}
