import Dispatch
import Glibc
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOSSL
import ServiceLifecycle
import StrataAdmin
import StrataBroker
import StrataConfig
import StrataConsumer
import StrataCore
import StrataGRPCAPI
import StrataHTTP
import StrataHTTPClient
import StrataHistory
import StrataHub
import StrataLMDB
import StrataMetrics
import StrataNATS
import StrataProxy
import StrataProxyGRPC
import StrataProxyHTTP
import StrataRedis
import StrataServerAPI
import StrataTLS
import StrataTransport
import UnixSignals

/// The composition root: configuration → history store and broker → node → WebSocket + HTTP API.
/// The only place that chooses a store implementation.
package enum StrataServer {
    /// Runs the server until SIGTERM/SIGINT. On shutdown clients are first told `3001 shutdown`
    /// (so they reconnect), then the HTTP server stops: services stop in reverse order.
    package static func run(config: StrataConfig, logger: Logger, metrics: MetricsRegistry?) async throws {
        var services: [any Service] = []
        let tls: NIOSSLContext?
        if config.httpServer.tlsAutocert.enabled {
            if config.httpServer.tls.enabled {
                logger.warning("http_server.tls and http_server.tls_autocert are both on: the ACME certificates are served (as Centrifugo does)")
            }
            // Certificates first (the CA validates through the challenge listener meanwhile):
            // the port opens with TLS ready, or the start fails saying why.
            let autoTLS = try await AutoTLS.start(config.httpServer.tlsAutocert, httpsPort: config.httpServer.port, logger: logger)
            tls = autoTLS.context
            services = autoTLS.services
        } else {
            tls = try ServerTLS.context(config.httpServer.tls)
        }
        // One pooled HTTP client for the proxies to the backend, when any is on.
        let proxies = [config.client.connectProxy, config.client.refreshProxy].compactMap { $0 } + config.proxies.byKey.values
        let proxyTransport = proxies.filter { !$0.isGRPC }.map(\.timeoutMillis).max().map { HTTPProxyTransport(readTimeout: .milliseconds($0)) }
        // The gRPC proxies' connections, made as the node asks for them.
        let grpcProxies = GRPCProxyClients()
        let (server, housekeeping, apiServices, uniGRPC) = try await makeServer(
            config: config, tls: tls, logger: logger, metrics: metrics, proxyTransport: proxyTransport, grpcProxies: grpcProxies)
        // Services stop in reverse order: the consumers and the gRPC API first (no command is
        // taken that the node could not finish), then the goodbye to clients (which ends the
        // uni_grpc streams, so their listener stops at once), the gRPC proxies' connections
        // after them, the challenge listener last.
        services += [grpcProxies, server] + (uniGRPC.map { [$0] } ?? []) + [housekeeping] + apiServices
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await proxyTransport?.shutdown()
            throw error
        }
        await proxyTransport?.shutdown()
    }

    /// Builds the HTTP/WebSocket server (TLS on it when `tls` is given) and the node's
    /// background service.
    package static func makeServer(
        config: StrataConfig, tls: NIOSSLContext?, logger: Logger, metrics: MetricsRegistry?, proxyTransport: (any ProxyTransport)? = nil,
        grpcProxies: GRPCProxyClients? = nil
    ) async throws
        -> (some Service, NodeHousekeeping, [any Service], UniGRPCTransport?)
    {
        let engine = try makeEngine(config, logger: logger)
        // JWKS documents (`jwks_public_endpoint`) are fetched over the outbound client, 10 s at most.
        let outbound = try OutboundHTTPClient(timeout: .seconds(10))
        var grpcBackend: (@Sendable (StrataConfig.Proxy) throws -> any GRPCProxyBackend)?
        if let grpcProxies { grpcBackend = { @Sendable proxy in try grpcProxies.backend(for: proxy) } }
        let node = try await Node(
            config: config, broker: engine.broker, presence: engine.presence, nodeRegistry: engine.nodes, logger: logger,
            jwksFetch: { url in try await outbound.fetch(url) }, proxyTransport: proxyTransport, grpcProxyBackend: grpcBackend)
        for key in config.unknownKeys { logger.warning("unknown configuration key", metadata: ["key": "\(key)"]) }
        let nodeMetrics = metrics.map { NodeMetricsExport(registry: $0, node: node, store: engine.store, config: config) }

        let router = Router(context: StrataRequestContext.self)
        if config.admin.enabled {
            var apiConfig = config.httpAPI
            apiConfig.disabled = false
            if let api = APIEndpoint(node: node, config: apiConfig, infoMetrics: nodeMetrics?.info) {
                let admin = AdminEndpoint(
                    config: config.admin, node: node, api: api, storeFigures: AdminMiddleware.storeFigures(engine.store, config: config))
                router.add(middleware: AdminMiddleware(admin: admin))
            }
            if config.admin.insecure { logger.warning("admin.insecure is on: the admin UI and its API need no login") }
        }
        // Both answer any method, as Centrifugo's do (load balancers probe with HEAD or POST too).
        let anyMethod: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]
        if config.health.enabled {
            for method in anyMethod {
                router.on(RouterPath(config.health.handlerPrefix), method: method) { _, _ -> Response in
                    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
                }
            }
        }
        if config.prometheus.enabled, let metrics {
            for method in anyMethod {
                router.on(RouterPath(config.prometheus.handlerPrefix), method: method) { _, _ -> Response in
                    Response(
                        status: .ok, headers: [.contentType: PrometheusExposition.contentType],
                        body: .init(byteBuffer: ByteBuffer(bytes: PrometheusExposition.render(metrics))))
                }
            }
        }
        var webSockets: [any WebSocketUpgradeEndpoint] = []
        if !config.websocket.disabled {
            webSockets.append(WebSocketTransport(
                sessions: SessionFactory(node: node),
                options: .init(
                    path: config.websocket.handlerPrefix, messageSizeLimit: config.websocket.messageSizeLimit,
                    allowedOrigins: config.client.allowedOrigins,
                    compression: Self.compression(
                        config.websocket.compression, minSize: config.websocket.compressionMinSize, level: config.websocket.compressionLevel,
                        inflatedLimit: config.websocket.decompressedMessageSizeLimit, messageLimit: config.websocket.messageSizeLimit),
                    writeTimeoutMillis: config.websocket.writeTimeoutMillis)))
        }
        if config.uniWebSocket.enabled {
            let u = config.uniWebSocket
            webSockets.append(
                UniWebSocketTransport(
                    sessions: SessionFactory(node: node),
                    options: .init(
                        path: u.handlerPrefix, messageSizeLimit: u.messageSizeLimit, joinPushMessages: u.joinPushMessages,
                        disconnectPush: !u.disableDisconnectPush, closingHandshake: !u.disableClosingHandshake,
                        allowedOrigins: config.client.allowedOrigins, pingIntervalMillis: config.client.pingIntervalMillis,
                        pongTimeoutMillis: config.client.pongTimeoutMillis,
                        compression: Self.compression(
                            u.compression, minSize: u.compressionMinSize, level: u.compressionLevel,
                            inflatedLimit: u.decompressedMessageSizeLimit, messageLimit: u.messageSizeLimit),
                        writeTimeoutMillis: u.writeTimeoutMillis)))
        }
        let webSocket: (any WebSocketUpgradeEndpoint)? = webSockets.isEmpty ? nil : WebSocketEndpoints(webSockets)
        // HTTP-streaming and SSE connections, and their /emulation requests, are answered in each
        // connection's pipeline too, ahead of the API.
        let streaming = HTTPStreamingTransport(
            sessions: SessionFactory(node: node),
            options: .init(
                httpStream: config.httpStream.enabled ? Self.endpoint(config.httpStream) : nil,
                sse: config.sse.enabled ? Self.endpoint(config.sse) : nil, emulation: Self.endpoint(config.emulation),
                uniSSE: config.uniSSE.enabled ? Self.endpoint(config.uniSSE) : nil,
                uniHTTPStream: config.uniHTTPStream.enabled ? Self.endpoint(config.uniHTTPStream) : nil,
                allowedOrigins: config.client.allowedOrigins))
        // The server API is answered in each connection's pipeline, before Hummingbird's router.
        let api = APIEndpoint(node: node, config: config.httpAPI, infoMetrics: nodeMetrics?.info)
        let address = config.httpServer.address.isEmpty ? "0.0.0.0" : config.httpServer.address
        let server = StrataHTTPServer(
            configuration: .init(host: address, port: config.httpServer.port, tls: tls),
            responder: router.buildResponder(), webSocket: webSocket,
            channelHandlers: {
                (streaming.isEnabled ? [streaming.makeHandler()] : [])
                    + (api.map { [APIChannelHandler(endpoint: $0, serverName: "strata")] } ?? [])
            },
            logger: logger,
            onServerRunning: { channel in
                logger.info("strata listening", metadata: ["address": "\(channel.localAddress?.description ?? "")"])
            })
        // Outbox rows and gRPC API calls run through the server API, as an HTTP API request would.
        let serverAPI = ServerAPI(node: node, infoMetrics: nodeMetrics?.info)
        var apiServices: [any Service] = try config.consumers.map { consumer in
            try OutboxConsumer(consumer, logger: logger) { method, payload in await serverAPI.consume(method: method, payload: payload) }
        }
        if config.grpcAPI.enabled { apiServices.append(GRPCAPIServer(config: config.grpcAPI, api: serverAPI, logger: logger)) }
        return (
            server,
            NodeHousekeeping(node: node, store: engine.store, metrics: nodeMetrics, shutdownTimeoutMillis: config.shutdownTimeoutMillis),
            apiServices,
            config.uniGRPC.enabled
                ? UniGRPCTransport(
                    sessions: SessionFactory(node: node),
                    options: .init(address: config.uniGRPC.address, port: config.uniGRPC.port, maxRequestSize: config.uniGRPC.maxReceiveMessageSize))
                : nil
        )
    }

    /// `websocket.compression*` / `uni_websocket.compression*`, nil when off; the inflated-message
    /// limit resolved (0: 10 × the message size limit).
    static func compression(_ on: Bool, minSize: Int, level: Int, inflatedLimit: Int, messageLimit: Int) -> MessageDeflateOptions? {
        guard on else { return nil }
        return MessageDeflateOptions(minSize: minSize, level: level, inflatedLimit: inflatedLimit > 0 ? inflatedLimit : 10 * messageLimit)
    }

    static func endpoint(_ e: StrataConfig.StreamEndpoint) -> HTTPStreamingTransport.Endpoint {
        HTTPStreamingTransport.Endpoint(
            path: e.handlerPrefix, maxBodySize: e.maxRequestBodySize,
            refusals: e.connectCodeToHTTPResponse?.map { .init(code: $0.code, status: $0.statusCode, body: $0.body) })
    }

    /// Where history, delivery between nodes and presence live.
    struct Engine {
        var store: any HistoryStore
        var broker: any Broker
        var presence: any PresenceManager
        /// Which nodes run: with a Redis broker, every node on it.
        var nodes: any NodeRegistry = LocalNodeRegistry()
    }

    /// `engine.type` picks the store and broker; `broker.*` / `presence_manager.*` with type
    /// `redis` move that part to its own Redis (Centrifugo's override rules).
    static func makeEngine(_ config: StrataConfig, logger: Logger) throws -> Engine {
        var store: any HistoryStore
        var broker: any Broker
        var presence: any PresenceManager = MemoryPresenceManager()
        var nodes: any NodeRegistry = LocalNodeRegistry()
        switch config.engine.type {
        case "memory":
            store = MemoryHistoryStore()
            broker = LocalBroker(store: store)
        case "redis":
            let shards = try redisShards(config.engine.redis, path: "engine.redis", logger: logger)
            let redisStore = RedisHistoryStore(shards: shards)
            store = redisStore
            broker = RedisBroker(store: redisStore, logger: logger)
            presence = RedisPresenceManager(shards: shards, ttlSeconds: config.engine.redis.presenceTTLMillis / 1000)
            nodes = RedisNodeRegistry(shards: shards)
        default:
            store = try LMDBHistoryStore(options: lmdbOptions(config))
            broker = LocalBroker(store: store)
        }
        if config.broker.enabled && config.broker.type == "redis" {
            let shards = try redisShards(config.broker.redis, path: "broker.redis", logger: logger)
            let redisStore = RedisHistoryStore(shards: shards)
            store = redisStore
            broker = RedisBroker(store: redisStore, logger: logger)
            nodes = RedisNodeRegistry(shards: shards)
        }
        if config.broker.enabled && config.broker.type == "nats" {
            // Delivery over NATS; history stays in the engine's store only when every node
            // shares it (Redis). The memory and LMDB engines' streams are each node's own, so
            // NATS then carries PUB/SUB only, as in Centrifugo (docs/nats.md).
            let nats = config.broker.nats
            let tls = nats.tls.enabled
                ? TLSClientSettings(context: try ClientTLS.context(nats.tls, path: "broker.nats.tls"), serverName: nats.tls.serverName) : nil
            let configuration = NATSConfiguration(
                servers: nats.servers.map { NATSAddress(host: $0.host, port: $0.port, user: $0.user, password: $0.password, token: $0.token) },
                connectTimeout: .milliseconds(nats.dialTimeoutMillis), pongTimeout: .milliseconds(nats.writeTimeoutMillis), tls: tls)
            let redisStore = store as? RedisHistoryStore
            broker = NATSBroker(
                configuration: configuration, prefix: nats.prefix, store: redisStore,
                prepare: { try await redisStore?.shards.connectAll(checkingEvictionWith: logger) }, logger: logger)
        }
        if config.presenceManager.enabled && config.presenceManager.type == "redis" {
            let redis = config.presenceManager.redis
            presence = RedisPresenceManager(shards: try redisShards(redis, path: "presence_manager.redis", logger: logger), ttlSeconds: redis.presenceTTLMillis / 1000)
        }
        logger.info(
            "engine",
            metadata: [
                "history": "\(type(of: store))", "broker": "\(type(of: broker))", "presence": "\(type(of: presence))",
                "path": "\(store is LMDBHistoryStore ? config.engine.lmdb.path : "-")",
            ])
        return Engine(store: store, broker: broker, presence: presence, nodes: nodes)
    }

    /// `path` names the section in a TLS setting's error.
    static func redisShards(_ redis: StrataConfig.Redis, path: String, logger: Logger) throws -> RedisShards {
        // One TLS context per distinct setting: built once, shared by every connection.
        var contexts: [StrataConfig.ClientTLS: NIOSSLContext] = [:]
        func redisTLS(_ settings: StrataConfig.ClientTLS, at key: String) throws -> TLSClientSettings? {
            guard settings.enabled else { return nil }
            let context = try contexts[settings] ?? ClientTLS.context(settings, path: key)
            contexts[settings] = context
            return TLSClientSettings(context: context, serverName: settings.serverName)
        }
        var configurations = try redis.endpoints.map { endpoint in
            RedisConfiguration(
                host: endpoint.host, port: endpoint.port, connectTimeout: .milliseconds(redis.connectTimeoutMillis),
                ioTimeout: .milliseconds(redis.ioTimeoutMillis), user: endpoint.user, password: endpoint.password, db: endpoint.db,
                tls: try redisTLS(endpoint.tls, at: path + ".tls"), probeInterval: .milliseconds(redis.probeIntervalMillis))
        }
        if !redis.clusters.isEmpty {
            // Redis Cluster: each shard's slot map is read from its seeds; every node shares the
            // section's credentials and TLS.
            let clusters = redis.clusters.enumerated().map { index, seeds in
                RedisCluster(
                    seeds: seeds.map { RedisAddress(host: $0.host, port: $0.port) }, configuration: configurations[index], logger: logger)
            }
            return RedisShards(clusters: clusters, prefix: redis.prefix)
        }
        guard !redis.sentinels.isEmpty else { return RedisShards(configurations, prefix: redis.prefix, logger: logger) }
        // Sentinel: each shard's master is asked of its Sentinels for every connection.
        let sentinelTemplate = RedisConfiguration(
            connectTimeout: .milliseconds(redis.connectTimeoutMillis), ioTimeout: .milliseconds(redis.ioTimeoutMillis),
            user: redis.sentinelUser, password: redis.sentinelPassword, tls: try redisTLS(redis.sentinelTLS, at: path + ".sentinel_tls"),
            probeInterval: .milliseconds(redis.probeIntervalMillis))
        var sentinels: [RedisSentinel?] = []
        for (index, addresses) in redis.sentinels.enumerated() {
            let sentinel = RedisSentinel(
                sentinels: addresses.map { RedisAddress(host: $0.host, port: $0.port) }, masterName: redis.sentinelMasterName,
                configuration: sentinelTemplate, logger: logger)
            sentinels.append(sentinel)
            configurations[index].host = "sentinel master \(redis.sentinelMasterName)"
            configurations[index].locate = { () throws(RedisError) -> RedisAddress in try await sentinel.locateMaster() }
            configurations[index].requireMaster = true
        }
        return RedisShards(configurations, prefix: redis.prefix, sentinels: sentinels, logger: logger)
    }

    /// The embedded store's options from `engine.lmdb.*` (the server and `strata history` share them).
    package static func lmdbOptions(_ config: StrataConfig) -> LMDBStoreOptions {
        let l = config.engine.lmdb
        var options = LMDBStoreOptions(
            path: l.path, mapSize: l.mapSize, relaxedDurability: l.durability == .relaxed, compressMinSize: l.compressMinSize,
            compressionLevel: Int32(l.compressionLevel))
        options.readahead = l.readahead
        return options
    }

    /// Installs Strata's registry as the process's swift-metrics backend (once per process).
    /// `STRATA_METRICS=off` leaves swift-metrics on its no-op backend instead — no `/metrics`,
    /// no `metrics` in `info` — which is how the cost of metrics is measured (docs/metrics.md).
    package static func bootstrapMetrics(environment: [String: String]) -> MetricsRegistry? {
        if environment["STRATA_METRICS"] == "off" { return nil }
        let registry = MetricsRegistry()
        MetricsSystem.bootstrap(StrataMetricsFactory(registry: registry))
        return registry
    }
}

/// Background work of a running node: history expiry sweeps every second, freed memory given
/// back after many connections closed (`MemoryTrim`), and the goodbye to clients (3001 shutdown)
/// when the server stops.
package struct NodeHousekeeping: Service {
    let node: Node
    let store: any HistoryStore
    let metrics: NodeMetricsExport?
    /// `shutdown.timeout`: once the graceful shutdown starts, the process exits by then anyway.
    var shutdownTimeoutMillis: Int64 = 30_000

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var trim = MemoryTrim()
            var seconds = 0
            while !Task.isCancelled {
                // Every 3 s (and at once): tell the other nodes about this one (`info`).
                if seconds % 3 == 0 {
                    await node.announce(record: NodeRecord.json(node: node, infoMetrics: metrics?.info))
                    metrics?.nodeCount(max(1, await node.liveNodeRecords().count))
                }
                seconds += 1
                try? await Task.sleep(for: .seconds(1))
                await store.sweepExpired()
                node.sweep()
                metrics?.tick()
                if trim.observe(connections: node.connectionCount) {
                    node.logger.debug("returned freed memory to the system after connections closed")
                }
            }
        }
        // Whatever the rest of the shutdown waits for (an API request stuck on a store), the
        // process is gone within `shutdown.timeout`, with status 1 as Centrifugo exits then.
        let logger = node.logger
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(clamping: shutdownTimeoutMillis))) {
            logger.error("graceful shutdown did not finish within shutdown.timeout: exiting")
            exit(1)
        }
        node.shutdown()
        // Let writers send the close frames before the server's channels go away.
        try? await Task.sleep(for: .milliseconds(200))
    }
}
