import Synchronization

/// An object made on first use and then read without a lock: one atomic load per use. For
/// metric handles on hot paths whose series should exist only once used (as Centrifugo's label
/// vectors show a series only after its first update).
package final class LazyReference<Value: AnyObject & Sendable>: Sendable {
    private let storage = Atomic<Unmanaged<Value>?>(nil)
    private let make: @Sendable () -> Value

    package init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
    }

    package var value: Value {
        if let existing = storage.load(ordering: .acquiring) { return existing.takeUnretainedValue() }
        let made = Unmanaged.passRetained(make())
        let (stored, original) = storage.compareExchange(expected: nil, desired: made, ordering: .acquiringAndReleasing)
        if stored { return made.takeUnretainedValue() }
        made.release()
        // The exchange failed, so another thread stored one.
        return original.unsafelyUnwrapped.takeUnretainedValue()
    }

    deinit {
        storage.load(ordering: .acquiring)?.release()
    }
}
