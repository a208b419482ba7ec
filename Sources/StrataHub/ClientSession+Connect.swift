import Logging
import StrataAuth
import StrataConfig
import StrataCore
import StrataProtocol

extension ClientSession {
    /// Connect (client-protocol.md §6): authenticate, register, subscribe server-side channels.
    func connect(_ request: ConnectRequest, id commandID: UInt32) async throws(CommandFailure) -> ReplyResult? {
        let config = node.config.client
        let now = node.clock.nowSeconds()
        var user = ""
        var claims = ConnectionClaims()
        if !request.token.isEmpty {
            do {
                claims = try await node.connectionTokens.verifyConnectionToken(request.token, now: now)
            } catch {
                switch error {
                case .expired: throw .error(.tokenExpired)
                case .invalid(let reason):
                    logger.info("invalid connection token", metadata: ["reason": "\(reason)"])
                    throw .disconnect(.invalidToken)
                }
            }
            user = claims.user
            if user.isEmpty && config.disallowAnonymousConnectionTokens { throw .disconnect(.permissionDenied) }
        } else if !(config.allowAnonymousConnectWithoutToken || config.insecure) {
            throw .disconnect(.badRequest)
        }
        if config.userConnectionLimit > 0, !user.isEmpty, node.hub.userConnectionCount(user) >= config.userConnectionLimit {
            throw .disconnect(.connectionLimit)
        }
        if config.connectionLimit > 0, node.hub.connectionCount >= config.connectionLimit {
            throw .disconnect(.connectionLimit)
        }
        var result = ConnectResult()
        let expiry = config.insecure ? nil : claims.connectionExpiry
        if let expiry {
            if expiry <= now { throw .error(.expired) }
            // Connection lifetime is capped at one year (Centrifugo does the same).
            result.expires = true
            result.ttl = UInt32(min(expiry, now + 365 * 86_400) - now)
        }
        state.withLock { s in
            s.user = user
            s.connInfo = claims.info
            s.expireAt = expiry
        }

        // Server-side subscriptions: the token's subs (or channels), plus channels the client
        // lists in `subs` that it could subscribe to client-side anyway.
        var serverSide: [(String, SubscribeRequest, TokenSubscribeOptions?)] = []
        if !claims.subs.isEmpty {
            for (ch, opts) in claims.subs.sorted(by: { $0.key < $1.key }) {
                var r = request.subs[ch] ?? SubscribeRequest()
                r.channel = ch
                serverSide.append((ch, r, opts))
            }
        } else {
            for ch in claims.channels {
                var r = request.subs[ch] ?? SubscribeRequest()
                r.channel = ch
                serverSide.append((ch, r, TokenSubscribeOptions()))
            }
        }
        for (ch, r) in request.subs.sorted(by: { $0.key < $1.key }) where !serverSide.contains(where: { $0.0 == ch }) {
            let o: ChannelOptions
            do {
                o = try node.channels.validate(ch)
            } catch {
                throw .disconnect(.badRequest)
            }
            if !node.channels.isPrivate(ch), Permissions.canSubscribe(o, user: user, insecure: config.insecure) {
                var r = r
                r.channel = ch
                serverSide.append((ch, r, nil))
            }
        }
        if config.channelLimit > 0, serverSide.count > config.channelLimit { throw .disconnect(.channelLimit) }

        node.hub.addConnection(self, user: user)
        node.metrics.connects.increment()
        state.withLock { $0.status = .connected }

        var pending: [PendingSubscribe] = []
        for (ch, r, opts) in serverSide {
            do {
                let p = try await prepareSubscribe(r, serverSide: true, tokenOptions: opts ?? TokenSubscribeOptions(), claimsFromToken: opts != nil)
                pending.append(try await readForSubscribe(p))
            } catch {
                // Any failing server-side subscription fails the whole connect.
                for p in pending { await abortSubscribe(p.channel) }
                switch error {
                case .error(let e):
                    throw .error(e)
                case .disconnect(let d): throw .disconnect(d)
                }
            }
        }

        result.client = id
        result.version = Node.version
        if config.pingIntervalMillis > 0 {
            result.ping = UInt32(max(1, config.pingIntervalMillis / 1000))
            result.pong = config.pongTimeoutMillis > 0
        }
        if config.connectIncludeServerTime { result.time = node.clock.nowMillis() }
        schedulePings(nowMillis: node.clock.nowMillis())
        node.timers.register(self)
        return try await finalizeConnect(result, id: commandID, pending: pending)
    }

    /// Finishes every server-side subscription and queues the connect reply in one critical
    /// section, so no live publication of those channels can overtake the reply.
    private func finalizeConnect(
        _ base: ConnectResult, id connectID: UInt32, pending: [PendingSubscribe]
    ) async throws(CommandFailure) -> ReplyResult? {
        var failure: CommandFailure?
        let overflow = state.withLock { s -> Bool in
            var result = base
            var after: [[UInt8]] = []
            for p in pending {
                switch finalizeSubscribe(&s, p) {
                case .success(let (sub, extra)):
                    result.subs.append((p.channel, sub))
                    after.append(contentsOf: extra)
                case .failure(let f):
                    failure = f
                    return false
                }
            }
            let reply = JSONReplyEncoder.reply(id: connectID, result: .connect(result))
            return queue.enqueue(contentsOf: [reply] + after) == .overflow
        }
        if let failure {
            for p in pending { await abortSubscribe(p.channel) }
            throw failure
        }
        if overflow { throw .disconnect(.slow) }
        return nil
    }

    // MARK: Refresh

    func refreshCommand(_ token: String) async throws(CommandFailure) -> ReplyResult? {
        guard !token.isEmpty else { throw .disconnect(.badRequest) }
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
        state.withLock { s in
            s.expireAt = expiry
            if let info = claims.info { s.connInfo = info }
        }
        guard let expiry else { return .refresh(expires: false, ttl: 0) }
        return .refresh(expires: true, ttl: UInt32(min(expiry, now + 365 * 86_400) - now))
    }
}
