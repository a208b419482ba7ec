import Logging
import Metrics
import StrataAuth
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataProxy
import StrataRecovery

/// Options of one publish beyond channel and data (server API `publish` fields).
package struct PublishOptions: Sendable {
    package var skipHistory = false
    /// Whether the namespace's `delta_publish` applies (not to what a publish proxy returns).
    package var namespaceDelta = true
    package var idempotencyKey: String?
    package var delta = false
    package var version: UInt64 = 0
    package var versionEpoch = ""

    package init() {}
}

/// The server's core: channel rules, the broker (and through it history), presence and the hub of
/// live connections. Transports and the server API call into it; it never imports a transport.
package final class Node: BrokerEventHandler, Sendable {
    package static let version = "0.1.0"

    // The node's parts stay inside StrataHub: transports and the server API call the node's
    // operations below (publish, history, presence, connections, stats), not its hub or broker,
    // and get their own part of the config from the composition root.
    let config: StrataConfig
    let channels: ChannelResolver
    let broker: any Broker
    let presence: any PresenceManager
    /// The running nodes (`info`): this one alone, or every node on the same Redis.
    let nodeRegistry: any NodeRegistry
    let hub = Hub()
    let clock: any WallClock
    package let logger: Logger
    let connectionTokens: TokenVerifier
    /// The proxies to the application backend.
    let proxies: NodeProxies
    let subscriptionTokens: TokenVerifier
    package let nodeID = RandomID.uuidString()
    package let name: String
    let startedAt: Int64

    let metrics: NodeMetrics
    /// A log line per kind of failed recovery every 10 s at most (a mass reconnect after an epoch
    /// change would otherwise write one per client; every one is counted in metrics).
    let recoveryFailureLog = LogThrottle(intervalMillis: 10_000)
    /// The connection rate limits and the connection limit, asked before a connection opens.
    let admission: ConnectionAdmission
    /// Orders hub changes with broker (un)subscribes per channel.
    let channelLocks = ChannelLocks()
    /// Coalesces identical stream reads (mass reconnects).
    let readCache = StreamReadCache()
    /// Pings, pong deadlines, stale connections and expiry for every session.
    let timers: SessionTimers
    /// Store reads actually performed for subscribes and position checks (diagnostics and tests).
    package let streamReads = Locked<Int>(0)

    package init(
        config: StrataConfig, broker: any Broker, presence: any PresenceManager = MemoryPresenceManager(),
        nodeRegistry: any NodeRegistry = LocalNodeRegistry(), clock: any WallClock = SystemClock(), logger: Logger,
        jwksFetch: JWKSKeySet.Fetch? = nil, proxyTransport: (any ProxyTransport)? = nil,
        grpcProxyBackend: (@Sendable (StrataConfig.Proxy) throws -> any GRPCProxyBackend)? = nil
    ) async throws {
        self.config = config
        self.channels = ChannelResolver(config: config.channel)
        self.broker = broker
        self.presence = presence
        self.nodeRegistry = nodeRegistry
        self.clock = clock
        self.logger = logger
        self.admission = ConnectionAdmission(config: config.client, clock: clock, logger: logger)
        // Where history lives, as the store metrics label it (the broker override moves it).
        let redisBroker = config.broker.enabled && config.broker.type == "redis"
        self.metrics = NodeMetrics(
            store: redisBroker ? "redis" : config.engine.type, recoveredPublicationsHistogram: config.recoveredPublicationsHistogram)
        // One key set per JWKS URL, fetched in the background from the start.
        var keySets: [String: JWKSKeySet] = [:]
        func keySet(_ url: String) -> JWKSKeySet? {
            guard !url.isEmpty else { return nil }
            if let known = keySets[url] { return known }
            let fetch: JWKSKeySet.Fetch = jwksFetch ?? { _ in throw TokenError.invalid("no HTTP client for JWKS") }
            let set = JWKSKeySet(url: url, onProblem: { logger.warning("\($0)") }, fetch: fetch)
            keySets[url] = set
            Task { await set.refresh() }
            return set
        }
        var connectionKeys = Self.keys(config.client.token, config.client)
        connectionKeys.jwks = keySet(config.client.token.jwksPublicEndpoint)
        self.connectionTokens = try await TokenVerifier(keys: connectionKeys)
        self.proxies = try NodeProxies(config: config, transport: proxyTransport, grpc: grpcProxyBackend)
        let subToken = config.client.subscriptionTokenEnabled ? config.client.subscriptionToken : config.client.token
        var subscriptionKeys = Self.keys(subToken, config.client)
        subscriptionKeys.jwks = keySet(subToken.jwksPublicEndpoint)
        self.subscriptionTokens = try await TokenVerifier(keys: subscriptionKeys)
        self.name = config.node.name.isEmpty ? "strata_\(config.httpServer.port)" : config.node.name
        self.startedAt = clock.nowSeconds()
        self.timers = SessionTimers(config: config.client)
        try await broker.start(handler: self)
        timers.start(node: self)
    }

    static func keys(_ t: StrataConfig.Token, _ c: StrataConfig.Client) -> TokenKeys {
        var k = TokenKeys()
        k.hmacSecretKey = t.hmacSecretKey
        k.hmacPreviousSecretKey = t.hmacPreviousSecretKey
        k.hmacPreviousSecretKeyValidUntil = t.hmacPreviousSecretKeyValidUntil
        k.rsaPublicKeyPEM = t.rsaPublicKey
        k.ecdsaPublicKeyPEM = t.ecdsaPublicKey
        k.audience = t.audience
        k.audienceRegex = t.audienceRegex
        k.issuer = t.issuer
        k.issuerRegex = t.issuerRegex
        k.userIDClaim = t.userIDClaim
        k.skipSignatureVerification = c.insecureSkipTokenSignatureVerify
        return k
    }

    // MARK: Publishing

    /// Publishes to a channel: history append (when the namespace keeps history) and fan-out, atomically.
    /// Returns the publication's stream position (empty without history).
    /// `isJSON`: false for a binary payload that is not one JSON value (see `Publication.isJSON`).
    package func publish(
        channel: String, data: [UInt8], isJSON: Bool = true, info: ClientInfo? = nil, tags: [String: String] = [:],
        options: PublishOptions = PublishOptions()
    ) async throws(StrataError) -> StreamPosition {
        let ns = try channels.options(for: channel)
        var retention = channels.retention(ns)
        if options.skipHistory {
            retention.size = 0
            retention.ttlSeconds = 0
        }
        let pub = Publication(data: data, info: info, tags: tags, time: clock.nowMillis(), isJSON: isJSON)
        let append = AppendOptions(
            retention: retention, idempotencyKey: options.idempotencyKey,
            idempotentResultTTLSeconds: config.engine.idempotentResultTTLSeconds, useDelta: options.delta || (options.namespaceDelta && ns.deltaPublish),
            version: options.version, versionEpoch: options.versionEpoch,
            cacheKey: retention.keepsHistory ? try KeyedCachePublish.update(ns, tags: tags) : nil)
        do {
            let result = try await broker.publish(channel: channel, publication: pub, options: append)
            metrics.publicationsSent.increment()
            if retention.keepsHistory { metrics.historyAppends.increment() }
            return result.position
        } catch let full as CacheKeyLimitExceeded {
            logger.warning(
                "keyed cache channel is full", metadata: ["channel": "\(channel)", "cache_key_limit": "\(full.limit)"])
            throw .keyedCacheFull(limit: full.limit)
        } catch let refused as BrokerRefusal {
            throw refused.error
        } catch {
            logger.error("publish failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw .internalError
        }
    }

    // MARK: History

    /// Reads history; `since` with another epoch fails with 112 (docs/protocol/history.md §3).
    package func history(channel: String, filter: HistoryFilter) async throws(StrataError) -> HistoryResult {
        metrics.action(.history)
        let ns = try channels.options(for: channel)
        guard ns.keepsHistory else { throw .notAvailable }
        if filter.reverse, let since = filter.since, since.offset == 0 { throw .badRequest }
        let result: HistoryResult
        do {
            metrics.historyReads.increment()
            result = try await broker.history(channel: channel, filter: filter, metaTTLSeconds: channels.retention(ns).metaTTLSeconds)
        } catch let refused as BrokerRefusal {
            throw refused.error
        } catch {
            logger.error("history read failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw .internalError
        }
        if let since = filter.since, !since.epoch.isEmpty, since.epoch != result.top.epoch {
            throw .unrecoverablePosition
        }
        return result
    }

    /// Like `history`, but an epoch mismatch is a result, not an error (recovery decides with it).
    /// Identical concurrent reads share one store read (`StreamReadCache`); `fresh` bypasses it.
    func readStream(channel: String, filter: HistoryFilter, options ns: ChannelOptions, fresh: Bool = false) async throws(StrataError)
        -> HistoryResult
    {
        let metaTTL = channels.retention(ns).metaTTLSeconds
        let broker = self.broker
        let reads = streamReads
        let metrics = self.metrics
        let read: @Sendable () async throws -> HistoryResult = {
            reads.withLock { $0 += 1 }
            metrics.historyReads.increment()
            metrics.action(filter.limit == 0 ? .historyStreamTop : .historyRecover)
            return try await broker.history(channel: channel, filter: filter, metaTTLSeconds: metaTTL)
        }
        do {
            if fresh { return try await read() }
            return try await readCache.read(channel: channel, filter: filter, now: clock.nowMillis(), listening: listens(to: channel), read)
        } catch let refused as BrokerRefusal {
            throw refused.error
        } catch {
            logger.error("history read failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw .internalError
        }
    }

    /// Reads the channel's keyed cache table (docs/keyed-cache.md); 108 where the namespace keys none.
    package func keyedCache(channel: String, since: UInt64?) async throws(StrataError) -> KeyedCacheRead {
        let ns = try channels.options(for: channel)
        guard ns.keepsHistory, !ns.cacheKeyTag.isEmpty else { throw .notAvailable }
        return try await readKeyed(channel: channel, since: since, options: ns)
    }

    /// The API's `history` with `compacted: true` (Strata's own, docs/keyed-cache.md): the keyed
    /// table's live values, or with `since` every change after it (tombstones too), in offset
    /// order; `limit` and `reverse` as for the stream; another epoch in `since` is 112.
    package func keyedHistory(channel: String, filter: HistoryFilter) async throws(StrataError) -> HistoryResult {
        if filter.reverse, let since = filter.since, since.offset == 0 { throw .badRequest }
        let read = try await keyedCache(channel: channel, since: filter.since?.offset)
        if let since = filter.since, !since.epoch.isEmpty, since.epoch != read.top.epoch { throw .unrecoverablePosition }
        var publications = read.entries.map(\.publication)
        if filter.reverse { publications.reverse() }
        if filter.limit >= 0 { publications = Array(publications.prefix(filter.limit)) }
        return HistoryResult(publications: publications, top: read.top)
    }

    /// Identical concurrent table reads share one store read (`StreamReadCache`), as stream reads do.
    func readKeyed(channel: String, since: UInt64?, options ns: ChannelOptions) async throws(StrataError) -> KeyedCacheRead {
        let metaTTL = channels.retention(ns).metaTTLSeconds
        let broker = self.broker
        let reads = streamReads
        do {
            return try await readCache.readKeyed(channel: channel, since: since, now: clock.nowMillis(), listening: listens(to: channel)) {
                reads.withLock { $0 += 1 }
                return try await broker.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTL)
            }
        } catch let refused as BrokerRefusal {
            throw refused.error
        } catch {
            logger.error("keyed cache read failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw .internalError
        }
    }

    package func removeHistory(channel: String) async throws(StrataError) {
        metrics.action(.historyRemove)
        let ns = try channels.options(for: channel)
        guard ns.keepsHistory else { throw .notAvailable }
        do {
            try await broker.removeHistory(channel: channel)
            readCache.invalidate(channel)
        } catch let refused as BrokerRefusal {
            throw refused.error
        } catch {
            throw .internalError
        }
    }

    // MARK: Presence

    package func presence(channel: String) async throws(StrataError) -> [ClientInfo] {
        metrics.action(.presence)
        let ns = try channels.options(for: channel)
        guard ns.presence else { throw .notAvailable }
        do {
            return try await presence.presence(channel: channel)
        } catch {
            throw .internalError
        }
    }

    package func presenceStats(channel: String) async throws(StrataError) -> (numClients: Int, numUsers: Int) {
        metrics.action(.presenceStats)
        let ns = try channels.options(for: channel)
        guard ns.presence else { throw .notAvailable }
        do {
            return try await presence.stats(channel: channel)
        } catch {
            throw .internalError
        }
    }

    // MARK: Subscribers

    /// Whether this node hears of the channel's publications: it holds the broker subscription
    /// while it has local subscribers. Only then can a cached read be known to be current.
    func listens(to channel: String) -> Bool { hub.hasSubscribers(channel) }

    /// Adds a local subscriber; the node's first one for the channel subscribes the broker. Returns
    /// once the broker delivers the channel's publications to this node, for every subscriber
    /// (also one arriving while the first is still subscribing).
    func addSubscriber(_ channel: String, _ session: ClientSession) async throws {
        try await channelLocks.withLock(channel) {
            let (added, first) = hub.addSubscriber(channel, session)
            if added { metrics.subscriptionAdded(named: session.isNamed) }
            guard first else { return }
            metrics.action(.brokerSubscribe)
            do {
                try await broker.subscribe(channel: channel)
                // Reads kept from before the node listened may miss publications it never heard of.
                readCache.invalidate(channel)
            } catch {
                if hub.removeSubscriber(channel, session).removed { metrics.subscriptionRemoved(named: session.isNamed) }
                throw error
            }
        }
    }

    /// Removes a local subscriber; the last one unsubscribes the broker.
    func removeSubscriber(_ channel: String, _ session: ClientSession) async {
        await channelLocks.withLock(channel) {
            let (removed, last) = hub.removeSubscriber(channel, session)
            if removed { metrics.subscriptionRemoved(named: session.isNamed) }
            if last {
                metrics.action(.brokerUnsubscribe)
                try? await broker.unsubscribe(channel: channel)
                // From now on nothing tells this node the channel moved on.
                readCache.invalidate(channel)
            }
        }
    }

    // MARK: Broker events

    package func handlePublication(channel: String, result: AppendResult) {
        readCache.invalidate(channel)
        metrics.publicationsReceived.increment()
        if result.publication.time > 0 {
            metrics.pubSubLag.value.recordNanoseconds(max(0, clock.nowMillis() - result.publication.time) * 1_000_000)
        }
        hub.broadcastPublication(channel: channel, result: result, metrics: metrics)
    }

    package func handleJoin(channel: String, info: ClientInfo) {
        metrics.joinsReceived.increment()
        hub.broadcastJoin(channel: channel, info: info)
    }

    package func handleLeave(channel: String, info: ClientInfo) {
        metrics.leavesReceived.increment()
        hub.broadcastLeave(channel: channel, info: info)
    }

    /// Publications may have been lost between the broker and this node: positioned subscribers
    /// are sent to recover (2500 / 3010), the others keep going (they never had a guarantee).
    package func handleDeliveryGap(channels: [String]) {
        for channel in channels {
            readCache.invalidate(channel)
            for s in hub.subscribers(channel) { s.deliveryGap(channel) }
        }
    }

    /// How long an announced record lives: Centrifugo drops a node not heard of for 7 s or so
    /// (it announces every 3 s, as the server's housekeeping does here).
    static let nodeRecordTTLSeconds: Int64 = 9

    /// Announces this node's `info` record to the others (failures are retried at the next one).
    package func announce(record: [UInt8]) async {
        do {
            try await nodeRegistry.announce(nodeID: nodeID, record: record, ttlSeconds: Self.nodeRecordTTLSeconds)
        } catch {
            logger.debug("node announce failed", metadata: ["error": "\(error)"])
        }
    }

    /// The live nodes' records by node id (empty when the registry cannot be read).
    package func liveNodeRecords() async -> [String: [UInt8]] {
        (try? await nodeRegistry.nodes()) ?? [:]
    }

    /// Seconds since the node started.
    package var uptimeSeconds: Int64 { clock.nowSeconds() - startedAt }

    // MARK: What the server API and the transports see

    /// The options of `channel`'s namespace: 102 for an unknown namespace, 107 for a bad name.
    package func channelOptions(_ channel: String) throws(StrataError) -> ChannelOptions {
        try channels.options(for: channel)
    }

    /// Connections matching a server API filter: by user, and/or a single client id.
    package func connections(user: String?, client: String?) -> [ClientSession] {
        hub.connections(user: user, client: client)
    }

    /// Channels with subscribers on this node, with their subscriber counts.
    package func channelCounts() -> [String: Int] { hub.channels() }

    /// What `info` reports of this node.
    package struct Stats: Sendable, Equatable {
        package var connections: Int
        package var users: Int
        package var channels: Int
        package var subscriptions: Int
    }

    /// Periodic upkeep (every second, from the server's housekeeping): forgets stream reads
    /// that aged out.
    package func sweep() {
        readCache.sweep(now: clock.nowMillis())
    }

    /// Bytes waiting in every connection's outbound queue, and the longest queue (metrics).
    package func outboundQueues() -> (bytes: Int, longest: Int) {
        var total = 0
        var longest = 0
        for s in hub.connections(user: nil, client: nil) {
            let b = s.queue.queuedBytes
            total += b
            longest = max(longest, b)
        }
        return (total, longest)
    }

    /// Connections held now (cheap, unlike `stats`).
    package var connectionCount: Int { hub.connectionCount }

    package var stats: Stats {
        Stats(
            connections: hub.connectionCount, users: hub.userCount, channels: hub.channels().count,
            subscriptions: hub.subscriptionCount)
    }

    /// Stops every connection with `shutdown` (clients reconnect elsewhere or later).
    package func shutdown() {
        for s in hub.connections(user: nil, client: nil) { s.disconnect(.shutdown) }
    }
}

/// A configuration the node cannot run with, found when it starts.
package struct NodeSetupError: Error, CustomStringConvertible {
    package let description: String
}
