import Synchronization

/// What a fan-out prefetches of a session before delivering to it (`Prefetch`,
/// `Hub.broadcastPublication`): the session's first cache lines, then its queue and the
/// subscription the last delivery used, whose addresses the session notes at each delivery.
extension ClientSession {
    /// The bytes at the start of the object that a delivery reads: the header, the queue, the
    /// notes below, the transport, the codec, the lock, the status and the subscriptions (the
    /// order of `ClientSession`'s stored properties and of its `State`).
    static let hotBytes: UInt = 112

    @inline(__always)
    func prefetchSession() {
        Prefetch.object(self, bytes: Self.hotBytes)
    }

    /// The queue's state and its writer's slots, the subscriptions' storage (its header, and
    /// the keys of a small dictionary) and the last delivered subscription's first fields; the
    /// session's lines should be loaded already (`prefetchSession`).
    @inline(__always)
    func prefetchForDelivery() {
        queue.prefetch()
        Prefetch.memory(at: subscriptionsAddress.load(ordering: .relaxed), bytes: 128)
        Prefetch.memory(at: subscriptionAddress.load(ordering: .relaxed), bytes: 64)
    }

    /// Under the session lock, at each delivery.
    @inline(__always)
    func noteSubscriptions(at address: UInt) {
        subscriptionsAddress.store(address, ordering: .relaxed)
    }

    @inline(__always)
    func noteSubscription(at address: UInt) {
        subscriptionAddress.store(address, ordering: .relaxed)
    }
}
