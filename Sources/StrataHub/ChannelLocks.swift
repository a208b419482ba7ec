import DequeModule
import StrataCore

/// Serialises, per channel, "change the hub's subscriber set, then (un)subscribe the broker".
///
/// Without it a node could lose a channel it still needs: the last subscriber leaves and is about
/// to UNSUBSCRIBE while a new first subscriber's SUBSCRIBE completes; the UNSUBSCRIBE lands
/// second and the new subscriber hears nothing. It also makes a second subscriber wait until the
/// first one's broker subscription is confirmed, before it reads history (lossless recovery).
///
/// Channels are striped over a fixed set of async locks (FIFO), so unrelated channels rarely
/// wait for each other and no per-channel state has to be cleaned up.
final class ChannelLocks: Sendable {
    private struct Stripe {
        var held = false
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let stripes: [Locked<Stripe>]

    init(stripeCount: Int = 64) {
        stripes = (0..<max(1, stripeCount)).map { _ in Locked(Stripe()) }
    }

    func withLock<T>(_ channel: String, _ body: () async throws -> T) async rethrows -> T {
        var h = Hasher()
        h.combine(channel)
        let stripe = stripes[Int(UInt(bitPattern: h.finalize()) % UInt(stripes.count))]
        await acquire(stripe)
        defer { release(stripe) }
        return try await body()
    }

    private func acquire(_ stripe: Locked<Stripe>) async {
        let free = stripe.withLock { s -> Bool in
            if s.held { return false }
            s.held = true
            return true
        }
        if free { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let nowFree = stripe.withLock { s -> Bool in
                if s.held {
                    s.waiters.append(c)
                    return false
                }
                s.held = true
                return true
            }
            if nowFree { c.resume() }
        }
    }

    /// Hands the lock straight to the next waiter (still held), or frees it.
    private func release(_ stripe: Locked<Stripe>) {
        let next = stripe.withLock { s -> CheckedContinuation<Void, Never>? in
            if let next = s.waiters.popFirst() { return next }
            s.held = false
            return nil
        }
        next?.resume()
    }
}
