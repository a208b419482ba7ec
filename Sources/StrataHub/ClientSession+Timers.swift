import StrataConfig
import StrataCore
import StrataProtocol
import Synchronization

extension ClientSession {
    /// Closes connections that never authenticate (3502).
    public func startStaleTimer() {
        let delay = node.config.client.staleCloseDelayMillis
        guard delay > 0 else { return }
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            guard let self else { return }
            if self.state.withLock({ $0.status == .connecting }) { self.disconnect(.stale) }
        }
    }

    /// Server pings (the first at a random moment in [interval/2, interval)) and pong deadlines
    /// (client-protocol.md §7), once the connection is authenticated. Expiry of the connection and
    /// of its subscriptions is checked by the node's `ExpirySweeper`, with or without pings.
    func startTimers() {
        ExpirySweeper.ensureRunning(for: node)
        let interval = node.config.client.pingIntervalMillis
        let pongTimeout = node.config.client.pongTimeoutMillis
        guard interval > 0 else { return }
        Task { [weak self] in
            var delay = Int64.random(in: interval / 2..<max(interval / 2 + 1, interval))
            while true {
                try? await Task.sleep(for: .milliseconds(delay))
                guard let self, !self.queue.isClosed else { return }
                if self.connectionExpired(nowMillis: self.node.clock.nowMillis()) { return }
                self.state.withLock { if pongTimeout > 0 { $0.pingPending = true } }
                self.send(JSONReplyEncoder.ping)
                if pongTimeout > 0 {
                    try? await Task.sleep(for: .milliseconds(pongTimeout))
                    if self.state.withLock({ $0.pingPending && $0.status == .connected }) {
                        self.disconnect(.noPong)
                        return
                    }
                    delay = max(1, interval - pongTimeout)
                } else {
                    delay = interval
                }
            }
        }
    }

    /// Whether `expireAt` (unix seconds) plus a grace period (ms) has passed at `nowMillis`.
    /// Written without multiplying `expireAt`, which comes from tokens and may be huge.
    static func isPast(expireAt: Int64, graceMillis: Int64, nowMillis: Int64) -> Bool {
        let limit = nowMillis - max(0, graceMillis)
        guard limit >= 0 else { return expireAt < 0 }
        return expireAt <= limit / 1000
    }

    /// Without a refresh by `expire_at + expired_close_delay`, the connection ends with 3005.
    func connectionExpired(nowMillis now: Int64) -> Bool {
        let grace = node.config.client.expiredCloseDelayMillis
        let expired = state.withLock { s in
            s.status == .connected && s.expireAt.map { Self.isPast(expireAt: $0, graceMillis: grace, nowMillis: now) } ?? false
        }
        if expired { disconnect(.expired) }
        return expired
    }

    /// Ends subscriptions not refreshed (`sub_refresh`) by `expire_at + expired_sub_close_delay`
    /// (client-protocol.md §8): a client-side one is removed with an `unsubscribe` push 2501,
    /// a server-side one ends the connection with 3006. `nowMillis` is unix milliseconds.
    ///
    /// The check and the removal happen under the session lock, so a concurrent `sub_refresh`
    /// either extends the subscription first or finds it gone; the push is queued in the same
    /// critical section, after every publication already delivered for the channel.
    func expireSubscriptions(nowMillis now: Int64) async {
        let grace = node.config.client.expiredSubCloseDelayMillis
        enum Outcome {
            case none
            case disconnect
            case unsubscribed([(String, Subscription)], overflow: Bool)
        }
        let outcome = state.withLock { s -> Outcome in
            guard s.status == .connected else { return .none }
            var expired: [String] = []
            for (channel, sub) in s.subscriptions {
                // A subscription still being set up is left for the next check.
                guard sub.isLive, let expireAt = sub.expireAt,
                    Self.isPast(expireAt: expireAt, graceMillis: grace, nowMillis: now)
                else { continue }
                if sub.serverSide { return .disconnect }
                expired.append(channel)
            }
            guard !expired.isEmpty else { return .none }
            expired.sort()
            var removed: [(String, Subscription)] = []
            for channel in expired {
                if let sub = s.subscriptions.removeValue(forKey: channel) { removed.append((channel, sub)) }
            }
            let pushes = removed.map { JSONReplyEncoder.unsubscribePush(channel: $0.0, .expired) }
            return .unsubscribed(removed, overflow: queue.enqueue(contentsOf: pushes) == .overflow)
        }
        switch outcome {
        case .none:
            return
        case .disconnect:
            disconnect(.subExpired)
        case .unsubscribed(let removed, let overflow):
            if overflow {
                node.metrics.slowDisconnects.increment()
                disconnect(.slow, dropPending: true)
            } else {
                node.metrics.sent.increment(by: removed.count)
            }
            for (channel, sub) in removed { await leaveChannel(channel, sub) }
        }
    }

    /// One housekeeping pass for this connection (the sweeper's per-session step).
    func checkExpiry(nowMillis: Int64) async {
        if connectionExpired(nowMillis: nowMillis) { return }
        await expireSubscriptions(nowMillis: nowMillis)
        await checkPositions(nowMillis: nowMillis)
    }

    /// Quiet positioned subscriptions compare their position with the stream top every
    /// `client.channel_position_check_delay` (history-and-recovery.md §5): a publication lost on
    /// the way (or a new epoch) is found even when nothing else is published. Busy channels confirm
    /// their position with every delivery and are never read. Reads go to the local store through
    /// the read cache, so a thousand quiet subscribers of one channel cost one read.
    func checkPositions(nowMillis now: Int64) async {
        let delay = node.config.client.channelPositionCheckDelayMillis
        guard delay > 0 else { return }
        let due = state.withLock { s -> [(String, StreamPosition, ChannelOptions)] in
            guard s.status == .connected else { return [] }
            var out: [(String, StreamPosition, ChannelOptions)] = []
            for (channel, sub) in s.subscriptions where sub.positioned && sub.isLive && now - sub.positionConfirmedAt >= delay {
                out.append((channel, sub.position, sub.options))
                s.subscriptions[channel]?.positionConfirmedAt = now
            }
            return out
        }
        for (channel, position, options) in due {
            guard var top = try? await node.readStream(channel: channel, filter: .topOnly, options: options).top else { continue }
            if top == position { continue }
            // A publication committed but not yet delivered looks the same for a moment: look again.
            try? await Task.sleep(for: .milliseconds(100))
            guard let again = try? await node.readStream(channel: channel, filter: .topOnly, options: options, fresh: true).top else {
                continue
            }
            top = again
            let lost = state.withLock { s -> (Bool, Bool) in
                guard let sub = s.subscriptions[channel], sub.isLive, sub.position == position, top != position else { return (false, false) }
                if !sub.serverSide { s.subscriptions[channel] = nil }
                return (true, sub.serverSide)
            }
            if lost.0 { insufficientState(channel, serverSide: lost.1) }
        }
    }
}

/// Connection and subscription expiry for every session of a node, on a ~1 s cadence.
///
/// One task per node (started with its first connection), not one per connection: each pass
/// takes every session's lock once and compares a few integers, so 10k connections without
/// expiring subscriptions cost well under a millisecond per second. Only sessions with something
/// expired do any further (asynchronous) work. The task ends once the node is gone.
enum ExpirySweeper {
    /// How often a pass runs.
    static let interval: Duration = .seconds(1)

    private struct Entry {
        weak var node: Node?
    }

    /// Nodes with a running sweeper.
    private static let running = Mutex<[Entry]>([])

    /// Starts the node's sweeper unless it runs already.
    static func ensureRunning(for node: Node) {
        let start = running.withLock { entries -> Bool in
            entries.removeAll { $0.node == nil }
            if entries.contains(where: { $0.node === node }) { return false }
            entries.append(Entry(node: node))
            return true
        }
        guard start else { return }
        Task { [weak node] in
            while true {
                try? await Task.sleep(for: interval)
                guard let node else { return }
                await sweep(node)
            }
        }
    }

    /// One pass over the node's connections, at the node clock's current time.
    static func sweep(_ node: Node) async {
        let now = node.clock.nowMillis()
        for session in node.hub.connections(user: nil, client: nil) {
            await session.checkExpiry(nowMillis: now)
        }
    }
}
