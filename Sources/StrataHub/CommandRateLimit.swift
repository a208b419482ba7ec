/// `client.command_rate_limit` (Strata's own key; off by default): at most `perSecond`
/// commands a second from one connection, with bursts up to a second's worth. A command over it
/// is answered with error 111 `too many requests` (temporary: SDKs retry) and not run.
///
/// Why: a client flooding commands makes the server do the work of each one; the inbox already
/// bounds how many wait (reading pauses), and commands yield the event loop between batches so
/// others are served (docs/reliability.md), but only a limit caps the work itself.
struct CommandRateLimit: Sendable {
    let perSecond: Int64
    /// Tokens in thousandths, so refills at any rate stay exact in integers.
    private var milliTokens: Int64
    private var refilledAt: Int64

    init(perSecond: Int, nowMillis: Int64) {
        self.perSecond = Int64(perSecond)
        self.milliTokens = Int64(perSecond) * 1000
        self.refilledAt = nowMillis
    }

    /// Takes one command's token; false when none is left.
    mutating func allow(nowMillis: Int64) -> Bool {
        let elapsed = max(0, nowMillis - refilledAt)
        refilledAt = nowMillis
        // perSecond tokens per 1,000 ms: perSecond thousandths of a token per millisecond.
        milliTokens = min(perSecond * 1000, milliTokens + elapsed * perSecond)
        guard milliTokens >= 1000 else { return false }
        milliTokens -= 1000
        return true
    }
}
