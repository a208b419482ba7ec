import Synchronization

/// A value behind a lock, as a class so it can sit in arrays and dictionaries (`Mutex` itself is
/// non-copyable).
///
/// The lock is a `Mutex<Void>` beside the value rather than a `Mutex<Value>`: calls from other
/// modules run `withLock` unspecialized, and there every access to a `Mutex<Value>` looked up that
/// type's metadata in the runtime's cache (a third of the broadcast benchmark's time,
/// docs/benchmarks.md). `Mutex<Void>` is one concrete type, and the value is a stored property.
/// `@unchecked Sendable`: the value is only ever touched inside `withLock`.
package final class Locked<Value: ~Copyable>: @unchecked Sendable {
    @usableFromInline let lock = Mutex<Void>(())
    /// Exclusive by the lock, so the runtime's dynamic exclusivity check is skipped.
    @exclusivity(unchecked) @usableFromInline var value: Value

    package init(_ value: consuming sending Value) {
        self.value = value
    }

    @inlinable
    package func withLock<Result: ~Copyable, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        try lock.withLock { (_: inout sending Void) throws(E) -> sending Result in
            try body(&value)
        }
    }
}
