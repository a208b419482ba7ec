import Logging
import StrataAuth
import StrataConfig
import StrataCore
import StrataProtocol
import StrataProxy
import Synchronization

/// What a connection asks the application backend (docs/proxy.md): connect, refresh,
/// subscribe, publish, sub_refresh and RPC. Each call is awaited by the command (or the timer
/// task) that needs it, never on an event loop; a slow backend holds only that connection's call.
extension ClientSession {
    /// The connection as proxy requests describe it.
    func proxyConnection() -> ProxyConnection {
        var c = ProxyConnection()
        c.client = id
        c.transport = transport.rawValue
        c.protocolName = codec.kind.isProtobuf ? "protobuf" : "json"
        let (user, meta, emulated) = state.withLock { ($0.user, $0.connMeta, $0.emulatedHeaders) }
        c.user = user
        c.meta = meta
        // A uni_grpc connection keeps its call's metadata where the others keep HTTP headers.
        c.headers = transport == .uniGRPC
            ? ProxyHeaders(emulated: emulated, metadata: requestHeaders) : ProxyHeaders(transport: requestHeaders, emulated: emulated)
        return c
    }

    /// Keeps the connect command's `headers` that some proxy forwards (`emulated_headers`).
    func keepEmulatedHeaders(_ headers: [String: String]) {
        let names = node.proxies.emulatedHeaderNames
        guard !names.isEmpty, !headers.isEmpty else { return }
        let kept = headers.filter { names.contains($0.key.lowercased()) }.sorted { $0.key < $1.key }
            .map { StrataConfig.HeaderField(name: $0.key, value: $0.value) }
        state.withLock { $0.emulatedHeaders = kept }
    }

    /// The backend's `error` and `disconnect` go to the client as they are; no usable answer is
    /// error 100, temporary (SDKs retry). Returns the result of an answer that has one.
    private func commandOutcome<R>(_ outcome: ProxyOutcome<R>, _ what: String) throws(CommandFailure) -> R? {
        switch outcome {
        case .failed(let reason):
            logger.error("\(what) proxy call failed", metadata: ["error": "\(reason)"])
            throw .error(.internalError)
        case .answered(.disconnect(let code, let reason)):
            throw .disconnect(Disconnect(code: UInt16(clamping: code), reason: reason))
        case .answered(.error(let code, let message, let temporary)):
            throw .error(StrataError(code: code, message: message, temporary: temporary))
        case .answered(.result(let result)):
            return result
        }
    }

    // MARK: Connect

    /// The connect proxy's decision as claims: no result is an anonymous connection where those
    /// are allowed (3501 otherwise).
    func askConnectProxy(_ request: ConnectRequest) async throws(CommandFailure) -> (claims: ConnectionClaims, data: [UInt8]?) {
        guard let proxy = node.proxies.connect else { throw .error(.internalError) }
        var call = ConnectProxyRequest()
        call.connection = proxyConnection()
        call.data = request.data
        call.name = request.name
        call.version = request.version
        call.channels = request.subs.keys.sorted()
        let answer = try commandOutcome(await proxy.connect(call), "connect")
        guard let result = answer else {
            let config = node.config.client
            guard config.allowAnonymousConnectWithoutToken || config.insecure else { throw .disconnect(.badRequest) }
            return (ConnectionClaims(), nil)
        }
        var claims = ConnectionClaims()
        claims.user = result.user
        claims.expireAt = result.expireAt
        claims.info = result.info
        claims.meta = result.meta
        // Unlike a token's, both lists count: `channels` with the namespace's options, then
        // `subs` (which wins for a channel in both).
        for channel in result.channels { claims.subs[channel] = TokenSubscribeOptions() }
        for (channel, o) in result.subs { claims.subs[channel] = Self.tokenOptions(o) }
        return (claims, result.data)
    }

    /// A backend's subscription options as a token's would give them.
    static func tokenOptions(_ o: ProxySubscribeOptions) -> TokenSubscribeOptions {
        var options = TokenSubscribeOptions()
        options.info = o.info
        options.data = o.data
        options.override.presence = o.presence
        options.override.joinLeave = o.joinLeave
        options.override.forcePushJoinLeave = o.forcePushJoinLeave
        options.override.forceRecovery = o.forceRecovery
        options.override.forcePositioning = o.forcePositioning
        return options
    }

    // MARK: Subscribe, publish, RPC

    /// The subscribe proxy's decision: the subscription's options as a subscription token would
    /// give them (no result: the namespace's own), and its expiry (nil: none).
    func askSubscribeProxy(_ proxy: SubscribeProxy, channel: String, data: [UInt8]?) async throws(CommandFailure)
        -> (options: TokenSubscribeOptions, expireAt: Int64?)
    {
        let result = try commandOutcome(await proxy.subscribe(proxyConnection(), channel: channel, data: data), "subscribe")
        guard let result else { return (TokenSubscribeOptions(), nil) }
        return (Self.tokenOptions(result.options), result.expireAt > 0 ? result.expireAt : nil)
    }

    /// A client publication through the publish proxy: the backend may refuse it, replace its
    /// data (not checked against `publication_data_format` again, as in Centrifugo) and set its
    /// publish options; the namespace's `delta_publish` does not apply.
    func publishThroughProxy(_ proxy: PublishProxy, channel: String, data: [UInt8], isJSON: Bool, info: ClientInfo)
        async throws(CommandFailure)
    {
        let result = try commandOutcome(await proxy.publish(proxyConnection(), channel: channel, data: data), "publish")
        var options = PublishOptions()
        options.namespaceDelta = false
        var payload = data
        var payloadIsJSON = isJSON
        var tags: [String: String] = [:]
        if let result {
            if let replaced = result.data {
                payload = replaced
                payloadIsJSON = JSONParser.isValid(replaced)
            }
            options.skipHistory = result.skipHistory
            options.idempotencyKey = result.idempotencyKey.isEmpty ? nil : result.idempotencyKey
            options.delta = result.delta
            options.version = result.version
            options.versionEpoch = result.versionEpoch
            tags = result.tags
        }
        do {
            _ = try await node.publish(channel: channel, data: payload, isJSON: payloadIsJSON, info: info, tags: tags, options: options)
        } catch {
            throw .error(error)
        }
    }

    /// An RPC answered by the backend: the data of its result, none without one.
    func callRPCProxy(_ proxy: RPCProxy, method: String, data: [UInt8]?) async throws(CommandFailure) -> [UInt8]? {
        let result = try commandOutcome(await proxy.call(proxyConnection(), method: method, data: data), "RPC")
        return result ?? nil
    }

    // MARK: Refreshes

    /// With a refresh proxy, a connection reaching its expiry (no grace period) is refreshed by
    /// the backend in a task of its own, one call at a time, so the timer pass never waits for
    /// a backend. Returns whether a call started.
    @discardableResult
    func refreshThroughProxyIfDue(nowMillis now: Int64) -> Bool {
        guard node.proxies.refresh != nil else { return false }
        let due = state.withLock { s -> Bool in
            guard s.status == .connected, !s.refreshingByProxy, let expireAt = s.expireAt,
                Self.isPast(expireAt: expireAt, graceMillis: 0, nowMillis: now)
            else { return false }
            s.refreshingByProxy = true
            return true
        }
        if due { Task { await self.refreshThroughProxy() } }
        return due
    }

    /// The refresh proxy's answer: a later expiry (with new info or meta) keeps the connection;
    /// `expired`, no result, or no later expiry ends it (3005); a `b64info` that is not base64
    /// ends it as a server error (3004); no usable answer tries again in a minute.
    func refreshThroughProxy() async {
        guard let proxy = node.proxies.refresh else { return }
        let outcome = await proxy.refresh(proxyConnection())
        let now = node.clock.nowSeconds()
        var end: Disconnect?
        switch outcome {
        case .failed(let reason):
            logger.warning("refresh proxy call failed, trying again in 60s", metadata: ["error": "\(reason)"])
            state.withLock { s in
                s.expireAt = now + 60
                s.refreshingByProxy = false
            }
        case .answered(.result(let r?)) where r.invalidInfo:
            end = .serverError
        case .answered(.result(let r?)) where !r.expired && r.expireAt > now:
            state.withLock { s in
                s.expireAt = min(r.expireAt, now + 365 * 86_400)
                if let info = r.info { s.connInfo = info }
                if let meta = r.meta { s.connMeta = meta }
                s.refreshingByProxy = false
            }
        case .answered:
            end = .expired
        }
        if let end { disconnect(end) }
    }

    /// Subscriptions in a namespace with a sub_refresh proxy that are past their expiry plus
    /// `client.expired_sub_close_delay` are refreshed by the backend, each in a task of its own.
    func refreshSubscriptionsThroughProxy(_ channels: [String]) {
        for channel in channels { Task { await self.refreshSubscriptionThroughProxy(channel) } }
    }

    /// The sub_refresh proxy's answer: a later expiry (and new channel info, when given) keeps
    /// the subscription, an `expire_at` of 0 stops its expiry; `expired`, no result or a past
    /// expiry ends it as an unrefreshed subscription ends; no usable answer tries again in a minute.
    func refreshSubscriptionThroughProxy(_ channel: String) async {
        let name = state.withLock { $0.subscriptions[channel]?.options.subRefreshProxy }
        guard let name, let proxy = node.proxies.subRefresh[name] else { return }
        let outcome = await proxy.refresh(proxyConnection(), channel: channel)
        let now = node.clock.nowSeconds()
        let kept = state.withLock { s -> Bool in
            guard s.subscriptions[channel] != nil else { return true }  // gone meanwhile: nothing to do
            switch outcome {
            case .failed:
                s.subscriptions[channel]?.expireAt = now + 60
            case .answered(.result(let r?)) where !r.expired && (r.expireAt == 0 || r.expireAt > now):
                s.subscriptions[channel]?.expireAt = r.expireAt == 0 ? nil : r.expireAt
                if let info = r.info, !info.isEmpty { s.subscriptions[channel]?.chanInfo = info }
            case .answered:
                return false
            }
            s.subscriptions[channel]?.refreshingByProxy = false
            return true
        }
        if case .failed(let reason) = outcome {
            logger.warning("sub_refresh proxy call failed, trying again in 60s", metadata: ["channel": "\(channel)", "error": "\(reason)"])
        }
        if !kept { await endExpiredSubscriptions([channel]) }
    }
}
