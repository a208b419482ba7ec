import Logging
import Metrics
import StrataConfig
import StrataCore

/// Decides whether a new connection may open, before the transport upgrades it or starts its
/// stream (a refusal is HTTP 503 with an empty body, as Centrifugo answers; SDKs retry later):
///
/// 1. `client.connection_rate_limit_per_ip` (Strata's own key): at most that many new
///    connections a second from one address (an IPv6 /64), with bursts of a second's worth.
///    Without it, one address flooding connections would spend every token of the node's rate
///    and lock everyone else out.
/// 2. `client.connection_rate_limit`: at most that many new connections a second to the node,
///    with bursts of a second's worth (see `docs/compatibility.md` for how Centrifugo's own
///    bucket refills).
/// 3. `client.connection_limit`: no new connection while the node holds that many.
///
/// Every connection endpoint asks, except the `/emulation` requests of connections already open.
package final class ConnectionAdmission: Sendable {
    package enum Refusal: String, Sendable {
        case rateLimitPerIP = "rate_limit_per_ip"
        case rateLimit = "rate_limit"
        case connectionLimit = "connection_limit"
    }

    private struct State {
        var node: TokenBucket?
        var perAddress: [PeerAddress: TokenBucket] = [:]
        var sweptAt: Int64 = 0
    }

    private let connectionLimit: Int
    private let perSecond: Int
    private let perSecondPerIP: Int
    private let clock: any WallClock
    private let logger: Logger
    private let state: Locked<State>
    private let refused: [Refusal: Counter]
    private let connectionLimitRefused = Counter(label: "centrifugo_node_client_connection_limit")
    /// A line per kind of refusal every 3 s at most (a flood would otherwise log one per request).
    private let logThrottle = LogThrottle(intervalMillis: 3000)

    package init(config: StrataConfig.Client, clock: any WallClock, logger: Logger) {
        connectionLimit = config.connectionLimit
        perSecond = config.connectionRateLimit
        perSecondPerIP = config.connectionRateLimitPerIP
        self.clock = clock
        self.logger = logger
        let now = clock.nowMillis()
        state = Locked(State(node: perSecond > 0 ? TokenBucket(perSecond: perSecond, nowMillis: now) : nil, sweptAt: now))
        refused = Dictionary(
            uniqueKeysWithValues: [Refusal.rateLimitPerIP, .rateLimit, .connectionLimit].map {
                ($0, Counter(label: "strata_node_connections_refused_total", dimensions: [("reason", $0.rawValue)]))
            })
    }

    /// Nil when the connection may open; otherwise why not. `connections` is how many the node
    /// holds now; `peer` is nil for a connection with no IP address (a Unix socket), which only
    /// the node-wide limits count.
    package func admit(from peer: PeerAddress?, connections: Int) -> Refusal? {
        guard perSecondPerIP > 0 || perSecond > 0 || connectionLimit > 0 else { return nil }
        let now = clock.nowMillis()
        let refusal: Refusal? = state.withLock { s in
            if perSecondPerIP > 0, let peer {
                // A bucket that has refilled is the same as none: forget those once a second,
                // so the table holds only the addresses of the last second.
                if now - s.sweptAt >= 1000 {
                    s.perAddress = s.perAddress.filter { !$0.value.isFull(nowMillis: now) }
                    s.sweptAt = now
                }
                var bucket = s.perAddress[peer] ?? TokenBucket(perSecond: perSecondPerIP, nowMillis: now)
                let allowed = bucket.take(nowMillis: now)
                s.perAddress[peer] = bucket
                if !allowed { return .rateLimitPerIP }
            }
            if var bucket = s.node {
                let allowed = bucket.take(nowMillis: now)
                s.node = bucket
                if !allowed { return .rateLimit }
            }
            if connectionLimit > 0, connections >= connectionLimit { return .connectionLimit }
            return nil
        }
        if let refusal { note(refusal, peer: peer, now: now) }
        return refusal
    }

    /// How many addresses the per-address limit holds buckets for (tests).
    var trackedAddresses: Int { state.withLock { $0.perAddress.count } }

    /// Counts a refusal, and logs it unless the same kind was logged in the last few seconds.
    private func note(_ refusal: Refusal, peer: PeerAddress?, now: Int64) {
        refused[refusal]?.increment()
        // Centrifugo counts refusals by `client.connection_limit` alone under its name.
        if refusal == .connectionLimit { connectionLimitRefused.increment() }
        guard let suppressed = logThrottle.admit(refusal.rawValue, nowMillis: now) else { return }
        var metadata: Logger.Metadata = [:]
        if suppressed > 0 { metadata["refused_since_last_line"] = "\(suppressed)" }
        switch refusal {
        case .rateLimitPerIP:
            metadata["limit"] = "\(perSecondPerIP)"
            metadata["address"] = "\(peer.map(String.init(describing:)) ?? "")"
            logger.warning("connection rate limit per address reached", metadata: metadata)
        case .rateLimit:
            metadata["limit"] = "\(perSecond)"
            logger.warning("node connection rate limit reached", metadata: metadata)
        case .connectionLimit:
            metadata["limit"] = "\(connectionLimit)"
            logger.warning("node connection limit reached", metadata: metadata)
        }
    }
}
