import Logging
import Metrics
import StrataAuth
import StrataConfig
import StrataCore
import StrataProtocol
import Synchronization

/// A server-side subscription the connect command sets up.
struct PlannedSubscription: Sendable {
    var request: SubscribeRequest
    var source: SubscriptionSource
    var options: TokenSubscribeOptions
}

extension ClientSession {
    /// Connect: authenticate, check the limits, set up the server-side subscriptions, answer, and
    /// only then register the connection.
    ///
    /// A connect that fails at any step leaves nothing behind: no user, no subscription, no
    /// presence entry, no hub or timer registration. The session becomes unusable (every later
    /// command closes it with 3501), so a refused client can never act as a logged-in one.
    func connect(_ request: ConnectRequest, id commandID: UInt32) async throws(CommandFailure) -> ReplyResult? {
        let config = node.config.client
        let now = node.clock.nowSeconds()
        let claims: ConnectionClaims
        var result = ConnectResult()
        keepEmulatedHeaders(request.headers)
        // A connect without a token goes to the backend when a connect proxy is on: it decides
        // the user and the server-side subscriptions; the client's own `subs` are not added.
        let proxied = request.token.isEmpty && node.proxies.connect != nil
        if proxied {
            let answer = try await askConnectProxy(request)
            claims = answer.claims
            result.data = answer.data
        } else {
            claims = try await authenticate(request.token, now: now)
        }
        let user = claims.user
        try checkConnectionLimits(user: user)
        let expiry = config.insecure ? nil : claims.connectionExpiry
        if let expiry {
            if expiry <= now { throw .error(.expired) }
            // Connection lifetime is capped at one year (Centrifugo does the same). With a
            // refresh proxy the server refreshes: the client is not told when.
            if node.proxies.refresh == nil {
                result.expires = true
                result.ttl = UInt32(min(expiry, now + 365 * 86_400) - now)
            }
        }
        let planned = try plannedSubscriptions(request, claims: claims, user: user, clientSubs: !proxied)

        state.withLock { s in
            s.user = user
            s.connInfo = claims.info
            s.connMeta = claims.meta
            s.expireAt = expiry
            s.named = !request.name.isEmpty
            s.versioned = !request.version.isEmpty
        }
        do {
            var pending: [PendingSubscribe] = []
            for plan in planned {
                let p = try await prepareSubscribe(plan.request, source: plan.source, tokenOptions: plan.options)
                pending.append(try await readForSubscribe(p))
            }
            result.client = id
            result.version = Node.version
            if pingIntervalMillis > 0 {
                result.ping = UInt32(max(1, pingIntervalMillis / 1000))
                result.pong = config.pongTimeoutMillis > 0
            }
            if config.connectIncludeServerTime { result.time = node.clock.nowMillis() }
            switch style {
            case .bidirectional:
                break
            case .emulated(let session):
                // An emulated connection's later commands name it by session and node.
                result.session = session
                result.node = node.nodeID
            case .unidirectional(let session):
                // A one-way client cannot answer pings.
                result.session = session
                result.pong = false
            }
            try finalizeConnect(result, id: commandID, pending: pending)
        } catch {
            await rollBackConnect()
            throw error
        }
        register(user: user)
        for plan in planned { await announceJoin(plan.request.channel) }
        return nil
    }

    /// The token's claims (empty for an anonymous connection); refusals per Centrifugo: an
    /// expired token is error 109, an invalid one 3500, a missing one 3501 unless allowed.
    private func authenticate(_ token: String, now: Int64) async throws(CommandFailure) -> ConnectionClaims {
        let config = node.config.client
        guard !token.isEmpty else {
            if config.allowAnonymousConnectWithoutToken || config.insecure { return ConnectionClaims() }
            throw .disconnect(.badRequest)
        }
        let claims: ConnectionClaims
        do {
            claims = try await node.connectionTokens.verifyConnectionToken(token, now: now)
        } catch {
            switch error {
            case .expired: throw .error(.tokenExpired)
            case .invalid(let reason):
                logger.info("invalid connection token", metadata: ["reason": "\(reason)"])
                throw .disconnect(.invalidToken)
            }
        }
        if claims.user.isEmpty && config.disallowAnonymousConnectionTokens { throw .disconnect(.permissionDenied) }
        return claims
    }

    private func checkConnectionLimits(user: String) throws(CommandFailure) {
        let config = node.config.client
        if config.userConnectionLimit > 0, !user.isEmpty, node.hub.userConnectionCount(user) >= config.userConnectionLimit {
            throw .disconnect(.connectionLimit)
        }
        if config.connectionLimit > 0, node.hub.connectionCount >= config.connectionLimit {
            throw .disconnect(.connectionLimit)
        }
    }

    /// Server-side subscriptions: the token's `subs` (or `channels`), plus channels the client
    /// lists in its `subs` that it could subscribe to client-side anyway. Validation only.
    private func plannedSubscriptions(
        _ request: ConnectRequest, claims: ConnectionClaims, user: String, clientSubs: Bool = true
    ) throws(CommandFailure) -> [PlannedSubscription] {
        let config = node.config.client
        var planned: [PlannedSubscription] = []
        func fromToken(_ channel: String, _ options: TokenSubscribeOptions) -> PlannedSubscription {
            var r = request.subs[channel] ?? SubscribeRequest()
            r.channel = channel
            return PlannedSubscription(request: r, source: .connectionToken, options: options)
        }
        if !claims.subs.isEmpty {
            for (ch, opts) in claims.subs.sorted(by: { $0.key < $1.key }) { planned.append(fromToken(ch, opts)) }
        } else {
            for ch in claims.channels { planned.append(fromToken(ch, TokenSubscribeOptions())) }
        }
        for (ch, r) in request.subs.sorted(by: { $0.key < $1.key }) where clientSubs && !planned.contains(where: { $0.request.channel == ch }) {
            let o: ChannelOptions
            do {
                o = try node.channels.validate(ch)
            } catch {
                throw .disconnect(.badRequest)
            }
            // Where the backend decides subscribes, a channel is never subscribed without asking it.
            if !node.channels.isPrivate(ch), o.subscribeProxy == nil, Permissions.canSubscribe(o, user: user, insecure: config.insecure) {
                var r = r
                r.channel = ch
                planned.append(PlannedSubscription(request: r, source: .connectRequest, options: TokenSubscribeOptions()))
            }
        }
        if config.channelLimit > 0, planned.count > config.channelLimit { throw .disconnect(.channelLimit) }
        return planned
    }

    /// Makes every server-side subscription live, marks the session connected and queues the
    /// connect reply in one critical section, so no live publication of those channels can
    /// overtake the reply and no other command sees a half-connected session.
    private func finalizeConnect(_ base: ConnectResult, id connectID: UInt32, pending: [PendingSubscribe]) throws(CommandFailure) {
        let outcome = state.withLock { s -> Result<Bool, CommandFailure> in
            guard s.status == .connecting else { return .failure(.disconnect(.badRequest)) }
            // finalizeSubscribe makes subscriptions live on connected sessions only; a failure
            // restores them as they were, none live, none announced.
            let before = s.subscriptions
            s.status = .connected
            var result = base
            var after: [[UInt8]] = []
            for p in pending {
                switch finalizeSubscribe(&s, p) {
                case .success(let (sub, extra)):
                    result.subs.append((p.channel, sub))
                    after.append(contentsOf: extra)
                case .failure(let f):
                    s.status = .connecting
                    s.subscriptions = before
                    return .failure(f)
                }
            }
            let reply = codec.reply(id: connectID, .connect(result))
            guard queue.enqueue(contentsOf: [reply] + after) != .overflow else { return .success(true) }
            // A one-way connection's connect result goes as a push.
            countSent([reply], style.isUnidirectional ? .pushConnect : .connect)
            countSent(after, .pushPublication)
            return .success(false)
        }
        switch outcome {
        case .failure(let f): throw f
        case .success(let overflow): if overflow { throw .disconnect(.slow) }
        }
    }

    /// Undoes a failed connect: leaves every channel it joined (hub, broker, presence, with the
    /// leave event under the user it joined as), then forgets the user.
    private func rollBackConnect() async {
        let subscriptions = state.withLock { s -> [String: Subscription] in
            if s.status != .closed { s.status = .unusable }
            let subs = s.subscriptions
            s.subscriptions = [:]
            return subs
        }
        for (channel, sub) in subscriptions.sorted(by: { $0.key < $1.key }) { await leaveChannel(channel, sub) }
        state.withLock { s in
            s.user = ""
            s.connInfo = nil
            s.expireAt = nil
        }
    }

    /// Registers a connected session with the hub (server API targets, limits, `info`) and the
    /// timers. A transport that closed meanwhile has already cleaned up: undo at once.
    private func register(user: String) {
        node.hub.addConnection(self, user: user)
        // Counted in only if cleanup has not run yet (it counts out what was counted in).
        let (named, versioned, counted) = state.withLock { s in
            if !s.cleanedUp { s.counted = true }
            return (s.named, s.versioned, s.counted)
        }
        if counted {
            node.metrics.connectionAccepted(transport, named: named, versioned: versioned)
            node.metrics.action(.addClient)
        }
        schedulePings(nowMillis: node.clock.nowMillis())
        node.timers.register(self)
        if state.withLock({ $0.cleanedUp }) {
            node.hub.removeConnection(self, user: user)
            node.timers.unregister(self)
        }
    }

    // MARK: Refresh

    func refreshCommand(_ token: String) async throws(CommandFailure) -> ReplyResult? {
        // With a refresh proxy the server refreshes connections; a client may not (3501).
        guard !token.isEmpty, node.proxies.refresh == nil else { throw .disconnect(.badRequest) }
        let now = node.clock.nowSeconds()
        let claims: ConnectionClaims
        do {
            claims = try await node.connectionTokens.verifyConnectionToken(token, now: now)
        } catch {
            switch error {
            case .expired: throw .disconnect(.expired)
            case .invalid: throw .disconnect(.invalidToken)
            }
        }
        guard claims.user == user else { throw .disconnect(.invalidToken) }
        let expiry = claims.connectionExpiry
        if let expiry, expiry <= now { throw .error(.expired) }
        let granted = Set(claims.subs.isEmpty ? claims.channels : Array(claims.subs.keys))
        let applied = state.withLock { s -> Bool in
            // A token that grants other server-side channels than the ones this connection holds
            // from its token ends the connection (3010, no reply): the client reconnects and gets
            // exactly what the new token grants. This is what Centrifugo does; it never leaves a
            // subscription the current token no longer grants.
            guard !Self.tokenChannelsChanged(granted: granted, subscriptions: s.subscriptions) else { return false }
            s.expireAt = expiry
            if let info = claims.info { s.connInfo = info }
            if let meta = claims.meta { s.connMeta = meta }
            return true
        }
        guard applied else { throw .disconnect(.insufficientState) }
        guard let expiry else { return .refresh(expires: false, ttl: 0) }
        return .refresh(expires: true, ttl: UInt32(min(expiry, now + 365 * 86_400) - now))
    }

    /// Whether a refreshed token's server-side channels differ from the connection's: a granted
    /// channel it is not subscribed to, or a token-sourced subscription no longer granted.
    static func tokenChannelsChanged(granted: Set<String>, subscriptions: [String: Subscription]) -> Bool {
        if granted.contains(where: { subscriptions[$0] == nil }) { return true }
        return subscriptions.contains { $0.value.source == .connectionToken && !granted.contains($0.key) }
    }
}
