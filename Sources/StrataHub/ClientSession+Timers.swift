import Metrics
import StrataBroker
import StrataConfig
import StrataCore
import StrataProtocol
import Synchronization

extension ClientSession {
    /// Puts the connection under the node's timers: closed with 3502 if it does not authenticate
    /// within `client.stale_close_delay`; after connect, pings, pong deadlines and expiry.
    package func startTimers() {
        let stale = node.config.client.staleCloseDelayMillis
        state.withLock { $0.staleDeadline = stale > 0 ? node.clock.nowMillis() + stale : .max }
        node.timers.register(self)
    }

    /// `client.ping_interval`, but 25 s for uni_grpc, whose pings Centrifugo does not configure
    /// (its connect push says `ping: 25` whatever the setting).
    var pingIntervalMillis: Int64 {
        transport == .uniGRPC ? 25_000 : node.config.client.pingIntervalMillis
    }

    /// Schedules the first ping at a random moment in [interval/2, interval) after connect, so a
    /// mass reconnect does not make every ping fall due at once.
    func schedulePings(nowMillis now: Int64) {
        let interval = pingIntervalMillis
        guard interval > 0 else { return }
        let first = Int64.random(in: interval / 2..<max(interval / 2 + 1, interval))
        state.withLock { $0.nextPingAt = now + first }
    }

    /// One timer step (docs/protocol/client-protocol.md §6–7): stale close, ping, pong deadline, then expiry and
    /// position checks. Called by `SessionTimers` for every live session.
    func tick(nowMillis now: Int64) async {
        let interval = pingIntervalMillis
        // One-way clients have no way to answer a ping.
        let pongTimeout = style.isUnidirectional ? 0 : node.config.client.pongTimeoutMillis
        enum Action {
            case none
            case stale
            case noPong
            case ping
        }
        let action = state.withLock { s -> Action in
            switch s.status {
            case .connecting, .unusable:
                return now >= s.staleDeadline ? .stale : .none
            case .closed:
                return .none
            case .connected:
                break
            }
            guard interval > 0 else { return .none }
            if s.pingPending && pongTimeout > 0 && now >= s.pongDeadline { return .noPong }
            guard now >= s.nextPingAt else { return .none }
            s.nextPingAt = now + interval
            if pongTimeout > 0 {
                s.pingPending = true
                s.pongDeadline = now + pongTimeout
                s.pingSentNanos = MonotonicClock.nanoseconds()
            }
            return .ping
        }
        switch action {
        case .none: break
        case .stale:
            disconnect(.stale)
            return
        case .noPong:
            disconnect(.noPong)
            return
        case .ping:
            send(codec.ping, .serverPing)
        }
        if isConnected { await checkExpiry(nowMillis: now) }
    }

    /// Whether `expireAt` (unix seconds) plus a grace period (ms) has passed at `nowMillis`.
    /// Written without multiplying `expireAt`, which comes from tokens and may be huge.
    static func isPast(expireAt: Int64, graceMillis: Int64, nowMillis: Int64) -> Bool {
        let limit = nowMillis - max(0, graceMillis)
        guard limit >= 0 else { return expireAt < 0 }
        return expireAt <= limit / 1000
    }

    /// Without a refresh by `expire_at + expired_close_delay`, the connection ends with 3005.
    /// With a refresh proxy the backend is asked instead, at `expire_at`.
    func connectionExpired(nowMillis now: Int64) -> Bool {
        if node.proxies.refresh != nil {
            refreshThroughProxyIfDue(nowMillis: now)
            return false
        }
        let grace = node.config.client.expiredCloseDelayMillis
        let expired = state.withLock { s in
            s.status == .connected && s.expireAt.map { Self.isPast(expireAt: $0, graceMillis: grace, nowMillis: now) } ?? false
        }
        if expired { disconnect(.expired) }
        return expired
    }

    /// Ends subscriptions not refreshed (`sub_refresh`) by `expire_at + expired_sub_close_delay`
    /// (docs/protocol/client-protocol.md §8); in a namespace with a sub_refresh proxy, asks the
    /// backend instead (`refreshSubscriptionThroughProxy`). `nowMillis` is unix milliseconds.
    func expireSubscriptions(nowMillis now: Int64) async {
        let grace = node.config.client.expiredSubCloseDelayMillis
        let (expired, refresh) = state.withLock { s -> ([String], [String]) in
            guard s.status == .connected else { return ([], []) }
            var expired: [String] = []
            var refresh: [String] = []
            for (channel, sub) in s.subscriptions {
                // A subscription still being set up is left for the next check.
                guard sub.isLive, !sub.refreshingByProxy, let expireAt = sub.expireAt,
                    Self.isPast(expireAt: expireAt, graceMillis: grace, nowMillis: now)
                else { continue }
                if sub.refreshedByProxy {
                    s.subscriptions[channel]?.refreshingByProxy = true
                    refresh.append(channel)
                } else {
                    expired.append(channel)
                }
            }
            return (expired, refresh)
        }
        refreshSubscriptionsThroughProxy(refresh)
        guard !expired.isEmpty else { return }
        // Checked again under the lock that removes them: a `sub_refresh` in between wins.
        await endExpiredSubscriptions(expired) { sub in
            sub.expireAt.map { Self.isPast(expireAt: $0, graceMillis: grace, nowMillis: now) } ?? false
        }
    }

    /// Ends expired subscriptions: a client-side one is removed with an `unsubscribe` push 2501,
    /// a server-side one ends the connection with 3006.
    ///
    /// `stillExpired` is asked under the session lock that removes them, so a concurrent
    /// `sub_refresh` either extends a subscription first or finds it gone; the push is queued in
    /// the same critical section, after every publication already delivered for the channel.
    func endExpiredSubscriptions(_ channels: [String], where stillExpired: (Subscription) -> Bool = { _ in true }) async {
        enum Outcome {
            case none
            case disconnect
            case unsubscribed([(String, Subscription)], overflow: Bool)
        }
        let outcome = state.withLock { s -> Outcome in
            guard s.status == .connected else { return .none }
            let live = channels.sorted().filter { s.subscriptions[$0].map { $0.isLive && stillExpired($0) } ?? false }
            if live.contains(where: { s.subscriptions[$0]?.serverSide == true }) { return .disconnect }
            guard !live.isEmpty else { return .none }
            var removed: [(String, Subscription)] = []
            for channel in live {
                if let sub = s.subscriptions.removeValue(forKey: channel) { removed.append((channel, sub)) }
            }
            let pushes = removed.map { codec.unsubscribePush(channel: $0.0, .expired) }
            let overflow = queue.enqueue(contentsOf: pushes) == .overflow
            if !overflow { countSent(pushes, .pushUnsubscribe) }
            return .unsubscribed(removed, overflow: overflow)
        }
        switch outcome {
        case .none:
            return
        case .disconnect:
            disconnect(.subExpired)
        case .unsubscribed(let removed, let overflow):
            if overflow {
                disconnect(.slow, dropPending: true)
            } else {
                for _ in removed { node.metrics.serverUnsubscribe(code: Unsubscribe.expired.code) }
            }
            for (channel, sub) in removed { await leaveChannel(channel, sub) }
        }
    }

    /// One housekeeping pass for this connection (the sweeper's per-session step).
    func checkExpiry(nowMillis: Int64) async {
        if connectionExpired(nowMillis: nowMillis) { return }
        await expireSubscriptions(nowMillis: nowMillis)
        await checkPositions(nowMillis: nowMillis)
        await refreshPresence(nowMillis: nowMillis)
    }

    /// Presence entries expire in a shared store (Redis: `presence_ttl`), so while subscriptions
    /// live their entries are added again every `client.presence_update_interval`.
    func refreshPresence(nowMillis now: Int64) async {
        let interval = node.config.client.presenceUpdateIntervalMillis
        guard interval > 0 else { return }
        let due = state.withLock { s -> [(String, ClientInfo)] in
            guard s.status == .connected else { return [] }
            if s.nextPresenceAt == 0 { s.nextPresenceAt = now + interval }
            guard now >= s.nextPresenceAt else { return [] }
            s.nextPresenceAt = now + interval
            return s.subscriptions.compactMap { channel, sub in
                guard sub.presence, sub.isLive else { return nil }
                return (channel, ClientInfo(user: s.user, client: id, connInfo: s.connInfo, chanInfo: sub.chanInfo))
            }
        }
        for (channel, info) in due { try? await node.presence.add(channel: channel, info: info) }
    }

    /// Quiet positioned subscriptions compare their position with the stream top every
    /// `client.channel_position_check_delay` (docs/recovery.md): a publication lost on
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
            recoverIf(channel) { sub in sub.isLive && sub.position == position && top != position }
        }
    }
}

/// Every connection's timers, driven by one task per node instead of sleeping tasks per
/// connection: a mass reconnect of 10k clients adds no timers, only entries in a list.
///
/// Each tick (every `tickMillis`, at most 1 s, finer when pings or pong timeouts are short) visits
/// the registered sessions once: one lock and a few comparisons each unless something is due.
package final class SessionTimers: Sendable {
    /// Strong references: sessions leave in `cleanup`, which every transport runs when its
    /// connection ends. (A weak reference would give each session a side table, and every retain
    /// of it — one per delivery in fan-out — would take the runtime's slow path.)
    private let sessions = Locked<[ObjectIdentifier: ClientSession]>([:])
    private let started = Locked(false)
    let tickMillis: Int64

    init(config: StrataConfig.Client) {
        var tick: Int64 = 1000
        for v in [config.pingIntervalMillis, config.pongTimeoutMillis, config.staleCloseDelayMillis] where v > 0 {
            tick = min(tick, max(50, v / 5))
        }
        tickMillis = tick
    }

    func register(_ session: ClientSession) {
        sessions.withLock { $0[ObjectIdentifier(session)] = session }
    }

    func unregister(_ session: ClientSession) {
        sessions.withLock { sessions in
            sessions.removeValue(forKey: ObjectIdentifier(session))
            sessions.shrinkIfSparse()
        }
    }

    /// Starts the node's timer task (once); it ends when the node is released.
    func start(node: Node) {
        let first = started.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        let tick = tickMillis
        Task { [weak node] in
            while true {
                try? await Task.sleep(for: .milliseconds(tick))
                guard let node else { return }
                await node.timers.tick(nowMillis: node.clock.nowMillis())
            }
        }
    }

    /// One pass over every registered session.
    func tick(nowMillis now: Int64) async {
        let live = sessions.withLock { Array($0.values) }
        for s in live { await s.tick(nowMillis: now) }
    }

    var count: Int { sessions.withLock { $0.count } }
}
