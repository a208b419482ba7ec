/// A token bucket: `perSecond` tokens a second, holding at most a second's worth, full at the
/// start. The rate limits (`client.command_rate_limit` per connection,
/// `client.connection_rate_limit` per node and `client.connection_rate_limit_per_ip` per address)
/// each take one token per thing they admit.
///
/// Time comes in as milliseconds from the caller's clock, so tests drive it.
package struct TokenBucket: Sendable {
    package let perSecond: Int64
    /// Tokens in thousandths, so refills at any rate stay exact in integers.
    private var milliTokens: Int64
    private var refilledAt: Int64

    package init(perSecond: Int, nowMillis: Int64) {
        self.perSecond = Int64(max(0, perSecond))
        self.milliTokens = self.perSecond * 1000
        self.refilledAt = nowMillis
    }

    /// Takes one token; false when none is left (and nothing is taken).
    package mutating func take(nowMillis: Int64) -> Bool {
        refill(nowMillis)
        guard milliTokens >= 1000 else { return false }
        milliTokens -= 1000
        return true
    }

    /// Whether the bucket would be full now: one that is full behaves as a fresh one, so a
    /// table of buckets can forget it.
    package func isFull(nowMillis: Int64) -> Bool {
        var copy = self
        copy.refill(nowMillis)
        return copy.milliTokens >= perSecond * 1000
    }

    private mutating func refill(_ nowMillis: Int64) {
        let elapsed = max(0, nowMillis - refilledAt)
        refilledAt = max(refilledAt, nowMillis)
        // perSecond tokens per 1,000 ms: perSecond thousandths of a token per millisecond. The
        // elapsed time is capped at a second (a full refill) so the product cannot overflow.
        milliTokens = min(perSecond * 1000, milliTokens + min(elapsed, 1000) * perSecond)
    }
}
