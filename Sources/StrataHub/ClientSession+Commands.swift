import Logging
import StrataAuth
import StrataConfig
import StrataCore
import StrataProtocol
import Synchronization

extension ClientSession {
    private func isSubscribed(_ channel: String) -> Bool {
        state.withLock { $0.subscriptions[channel]?.isLive == true }
    }

    private func resolve(_ channel: String) throws(CommandFailure) -> ChannelOptions {
        guard !channel.isEmpty else { throw .disconnect(.badRequest) }
        do {
            return try node.channels.validate(channel)
        } catch {
            throw .error(error)
        }
    }

    func publishCommand(_ channel: String, _ data: [UInt8]) async throws(CommandFailure) -> ReplyResult? {
        let options = try resolve(channel)
        // A JSON client's data is JSON by construction; a Protobuf client's may be any bytes,
        // which JSON subscribers cannot receive (they are disconnected with 3506).
        let isJSON = codec.kind == .json || JSONParser.isValid(data)
        guard options.publicationDataFormat.accepts(data, isJSON: isJSON) else { throw .error(.badRequest) }
        let info = state.withLock { s in
            ClientInfo(user: s.user, client: id, connInfo: s.connInfo, chanInfo: s.subscriptions[channel]?.chanInfo)
        }
        // The publish proxy decides instead of the allow_publish_for_* options.
        if let name = options.publishProxy {
            guard let proxy = node.proxies.publish[name] else { throw .error(.notAvailable) }
            try await publishThroughProxy(proxy, channel: channel, data: data, isJSON: isJSON, info: info)
            return .publish
        }
        guard
            Permissions.canPublish(
                options, user: info.user, subscribed: isSubscribed(channel), insecure: node.config.client.insecure)
        else { throw .error(.permissionDenied) }
        do {
            _ = try await node.publish(channel: channel, data: data, isJSON: isJSON, info: info)
        } catch {
            throw .error(error)
        }
        return .publish
    }

    func historyCommand(_ r: HistoryRequest) async throws(CommandFailure) -> ReplyResult? {
        let options = try resolve(r.channel)
        guard options.keepsHistory else { throw .error(.notAvailable) }
        guard
            Permissions.canReadHistory(
                options, user: user, subscribed: isSubscribed(r.channel), insecure: node.config.client.insecure)
        else { throw .error(.permissionDenied) }
        let cap = node.config.client.historyMaxPublicationLimit
        var limit = Int(r.limit)
        if cap > 0 && (limit < 0 || limit > cap) { limit = cap }
        let result: HistoryResult
        do {
            result = try await node.history(channel: r.channel, filter: HistoryFilter(since: r.since, limit: limit, reverse: r.reverse))
        } catch {
            throw .error(error)
        }
        // A payload the codec cannot carry (not JSON, in a JSON reply): Centrifugo ends the connection.
        guard codec.canCarry(result.publications, delta: false) else { throw .disconnect(.inappropriateProtocol) }
        return .history(publications: result.publications, top: result.top)
    }

    /// presence and presence_stats share the checks: presence on (108), then permission (103).
    private func checkPresenceAccess(_ channel: String) throws(CommandFailure) {
        let options = try resolve(channel)
        guard options.presence else { throw .error(.notAvailable) }
        guard
            Permissions.canReadPresence(options, user: user, subscribed: isSubscribed(channel), insecure: node.config.client.insecure)
        else { throw .error(.permissionDenied) }
    }

    func presenceCommand(_ channel: String) async throws(CommandFailure) -> ReplyResult? {
        try checkPresenceAccess(channel)
        do {
            return .presence(try await node.presence(channel: channel))
        } catch {
            throw .error(error)
        }
    }

    func presenceStatsCommand(_ channel: String) async throws(CommandFailure) -> ReplyResult? {
        try checkPresenceAccess(channel)
        do {
            let stats = try await node.presenceStats(channel: channel)
            return .presenceStats(numClients: UInt32(stats.numClients), numUsers: UInt32(stats.numUsers))
        } catch {
            throw .error(error)
        }
    }

    /// RPC (docs/proxy.md): the built-in ping method when on; else, with an RPC proxy, the
    /// method's namespace (the text before `rpc.namespace_boundary`; none: without namespace)
    /// decides — unknown: 104, not proxied: 108, proxied: the backend answers. Without any RPC
    /// proxy only the ping method exists (when enabled).
    func rpcCommand(_ method: String, _ data: [UInt8]?) async throws(CommandFailure) -> ReplyResult? {
        let rpc = node.config.rpc
        if rpc.pingEnabled && method == rpc.pingMethod { return .rpc(data: nil) }
        guard !node.proxies.rpc.isEmpty else { throw .error(rpc.pingEnabled ? .methodNotFound : .notAvailable) }
        let name: String?
        if let boundary = method.firstRange(of: rpc.namespaceBoundary) {
            guard let namespace = rpc.namespaces[String(method[..<boundary.lowerBound])] else { throw .error(.methodNotFound) }
            name = namespace.proxy
        } else {
            name = rpc.withoutNamespaceProxy
        }
        guard let name, let proxy = node.proxies.rpc[name] else { throw .error(.notAvailable) }
        return .rpc(data: try await callRPCProxy(proxy, method: method, data: data))
    }

    /// Centrifugo OSS has no handler for asynchronous messages from clients.
    func handleSend(_ data: [UInt8]) {
        disconnect(.notAvailable)
    }

    func subRefreshCommand(_ channel: String, _ token: String) async throws(CommandFailure) -> ReplyResult? {
        guard !channel.isEmpty else { throw .disconnect(.badRequest) }
        guard isSubscribed(channel) else { throw .error(.permissionDenied) }
        guard !token.isEmpty else { throw .error(.badRequest) }
        let now = node.clock.nowSeconds()
        let claims: SubscriptionClaims
        do {
            claims = try await node.subscriptionTokens.verifySubscriptionToken(token, now: now)
        } catch {
            switch error {
            case .expired: throw .error(.tokenExpired)
            case .invalid: throw .disconnect(.invalidToken)
            }
        }
        if claims.channel != channel || claims.user != user || (!claims.client.isEmpty && claims.client != id) {
            throw .disconnect(.invalidToken)
        }
        let expiry = claims.subscriptionExpiry
        if let expiry, expiry <= now { throw .error(.expired) }
        // The subscription may have expired (or been unsubscribed) while the token was checked.
        let refreshed = state.withLock { s -> Bool in
            guard s.subscriptions[channel] != nil else { return false }
            s.subscriptions[channel]?.expireAt = expiry
            return true
        }
        guard refreshed else { throw .error(.permissionDenied) }
        guard let expiry else { return .subRefresh(expires: false, ttl: 0) }
        // Subscription ttl is not capped (unlike the connection's), but must fit the wire type.
        return .subRefresh(expires: true, ttl: UInt32(clamping: expiry - now))
    }

    /// The answer to a server ping; one per ping, never unsolicited.
    func handlePong() {
        let sentAt = state.withLock { s -> UInt64? in
            guard s.pingPending else { return nil }
            s.pingPending = false
            return s.pingSentNanos
        }
        guard let sentAt else { return disconnect(.badRequest) }
        node.metrics.pingPong(transport, nanoseconds: Int64(MonotonicClock.nanoseconds() &- sentAt))
    }
}
