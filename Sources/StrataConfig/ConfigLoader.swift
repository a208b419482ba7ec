import Foundation

/// Builds a validated `StrataConfig` from a file (JSON, YAML or TOML) and the environment.
package enum ConfigLoader {
    /// Loads `path`; a missing file is not an error when `requireFile` is false (Centrifugo starts on defaults).
    package static func load(path: String?, environment: [String: String], requireFile: Bool = false) throws(ConfigErrors) -> StrataConfig {
        var root = ConfigValue.object([:])
        if let path {
            if FileManager.default.fileExists(atPath: path) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigErrors(errors: [ConfigError(path: "", message: "cannot read \(path)")])
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ConfigErrors(errors: [ConfigError(path: "", message: "\(path) is not UTF-8 text")])
                }
                let format = ConfigFormats.Format(path: path) ?? .json
                do {
                    root = try ConfigFormats.parse(text, format: format)
                } catch {
                    throw ConfigErrors(errors: [ConfigError(path: error.path, message: "\(path): \(error.message)")])
                }
            } else if requireFile {
                throw ConfigErrors(errors: [ConfigError(path: "", message: "config file \(path) does not exist")])
            }
        }
        return try decode(root, environment: environment)
    }

    package static func decode(_ root: ConfigValue, environment: [String: String] = [:]) throws(ConfigErrors) -> StrataConfig {
        guard case .object = root else {
            throw ConfigErrors(errors: [ConfigError(path: "", message: "top level must be an object")])
        }
        let (c, r) = read(root, environment: environment)
        if !r.errors.isEmpty { throw ConfigErrors(errors: r.errors) }
        return c
    }

    /// The environment variable that sets a key path and wins over every other
    /// (`STRATA_HTTP_SERVER_PORT` for `http_server.port`); the command line's flags use it.
    package static func environmentName(_ keyPath: String) -> String {
        "STRATA_" + ConfigReader.envKey(keyPath)
    }

    /// Every key path the loader asks for when it reads `root` (`ConfigKeysTests`).
    package static func keysRead(_ root: ConfigValue) -> Set<String> {
        read(root, environment: [:]).1.keysRead
    }

    private static func read(_ root: ConfigValue, environment: [String: String]) -> (StrataConfig, ConfigReader) {
        let r = ConfigReader(root: root, environment: environment)
        var c = StrataConfig()

        c.httpServer.address = r.string("http_server.address", c.httpServer.address)
        c.httpServer.port = r.int("http_server.port", c.httpServer.port)
        c.httpServer.tls = readTLS(r, "http_server.tls")
        c.httpServer.tlsAutocert = readAutocert(r, serverPort: c.httpServer.port)
        c.log.level = r.string("log.level", c.log.level)

        c.client.token = readToken(r, "client.token")
        c.client.subscriptionTokenEnabled = r.bool("client.subscription_token.enabled", false)
        c.client.subscriptionToken = readToken(r, "client.subscription_token")
        let cl = c.client
        c.client.allowedOrigins = r.strings("client.allowed_origins", cl.allowedOrigins)
        c.client.allowAnonymousConnectWithoutToken = r.bool("client.allow_anonymous_connect_without_token", false)
        c.client.disallowAnonymousConnectionTokens = r.bool("client.disallow_anonymous_connection_tokens", false)
        c.client.insecure = r.bool("client.insecure", false)
        c.client.connectProxy = readProxy(r, "client.proxy.connect", enabled: r.bool("client.proxy.connect.enabled", false), meta: false)
        c.client.refreshProxy = readProxy(r, "client.proxy.refresh", enabled: r.bool("client.proxy.refresh.enabled", false))
        c.client.insecureSkipTokenSignatureVerify = r.bool("client.insecure_skip_token_signature_verify", false)
        c.client.pingIntervalMillis = r.duration("client.ping_interval", cl.pingIntervalMillis)
        c.client.pongTimeoutMillis = r.duration("client.pong_timeout", cl.pongTimeoutMillis)
        c.client.expiredCloseDelayMillis = r.duration("client.expired_close_delay", cl.expiredCloseDelayMillis)
        c.client.expiredSubCloseDelayMillis = r.duration("client.expired_sub_close_delay", cl.expiredSubCloseDelayMillis)
        c.client.staleCloseDelayMillis = r.duration("client.stale_close_delay", cl.staleCloseDelayMillis)
        c.client.channelLimit = r.int("client.channel_limit", cl.channelLimit)
        c.client.queueMaxSize = r.int("client.queue_max_size", cl.queueMaxSize)
        c.client.presenceUpdateIntervalMillis = r.duration("client.presence_update_interval", cl.presenceUpdateIntervalMillis)
        c.client.channelPositionCheckDelayMillis = r.duration("client.channel_position_check_delay", cl.channelPositionCheckDelayMillis)
        c.client.connectionLimit = r.int("client.connection_limit", 0)
        c.client.commandRateLimit = r.int("client.command_rate_limit", 0)
        c.client.connectionRateLimit = r.int("client.connection_rate_limit", 0)
        c.client.connectionRateLimitPerIP = r.int("client.connection_rate_limit_per_ip", 0)
        c.client.userConnectionLimit = r.int("client.user_connection_limit", 0)
        c.client.connectIncludeServerTime = r.bool("client.connect_include_server_time", false)
        c.client.connectCodeToUnidirectionalDisconnect = readTransforms(r, "client.connect_code_to_unidirectional_disconnect") {
            r, scope, path in
            let to = r.int("to.code", 0, scope: scope)
            if to <= 0 { r.fail(path + ".to.code", "must be a positive code") }
            return StrataConfig.DisconnectTransform(code: r.int("code", 0, scope: scope), toCode: to, reason: r.string("to.reason", "", scope: scope))
        }
        c.client.historyMaxPublicationLimit = r.int("client.history_max_publication_limit", cl.historyMaxPublicationLimit)
        c.client.recoveryMaxPublicationLimit = r.int("client.recovery_max_publication_limit", cl.recoveryMaxPublicationLimit)
        c.client.recoveryStreamMaxPublicationLimit = r.int("client.recovery_stream_max_publication_limit", 0)
        if c.client.recoveryStreamMaxPublicationLimit != 0
            && c.client.recoveryStreamMaxPublicationLimit < c.client.recoveryMaxPublicationLimit
        {
            r.fail("client.recovery_stream_max_publication_limit", "must be 0 (off) or at least client.recovery_max_publication_limit")
        }

        let metaTTL = r.duration("channel.history_meta_ttl", c.channel.historyMetaTTLSeconds * 1000)
        if metaTTL <= 0 || metaTTL % 1000 != 0 {
            r.fail("channel.history_meta_ttl", "must be a positive whole number of seconds")
        } else {
            c.channel.historyMetaTTLSeconds = metaTTL / 1000
        }
        c.channel.maxLength = r.int("channel.max_length", c.channel.maxLength)
        c.channel.privatePrefix = r.string("channel.private_prefix", c.channel.privatePrefix)
        c.channel.namespaceBoundary = r.string("channel.namespace_boundary", c.channel.namespaceBoundary)
        c.channel.userBoundary = r.string("channel.user_boundary", c.channel.userBoundary)
        c.channel.userSeparator = r.string("channel.user_separator", c.channel.userSeparator)
        let globalFormat = r.string("channel.publication_data_format", "")
        c.channel.withoutNamespace = readOptions(
            r, scope: .init(
                pathPrefix: "channel.without_namespace.", envPrefix: "CHANNEL_WITHOUT_NAMESPACE_",
                base: r.subtree("channel.without_namespace")),
            globalFormat: globalFormat)
        for (path, name, item) in r.namedObjects("channel.namespaces") {
            let envName = ConfigReader.envKey(name)
            var ns = readOptions(
                r, scope: .init(pathPrefix: path + ".", envPrefix: "CHANNEL_NAMESPACES_\(envName)_", base: item),
                globalFormat: globalFormat)
            ns.name = name
            if !ConfigReader.isName(name) {
                r.fail(path + ".name", "namespace name \"\(name)\" must match ^[-a-zA-Z0-9_.]{2,}$")
            }
            if c.channel.namespaces.contains(where: { $0.name == name }) {
                r.fail(path + ".name", "duplicate namespace \"\(name)\"")
            }
            c.channel.namespaces.append(ns)
        }

        c.rpc.pingEnabled = r.bool("rpc.ping.enabled", false)
        c.rpc.pingMethod = r.string("rpc.ping.method", c.rpc.pingMethod)
        readRPCNamespaces(r, &c.rpc)
        c.proxies = resolveProxies(r, c.channel, c.rpc)
        c.consumers = readConsumers(r)
        c.engine.type = r.string("engine.type", c.engine.type)
        c.engine.lmdb.path = r.string("engine.lmdb.path", c.engine.lmdb.path)
        let durability = r.string("engine.lmdb.durability", c.engine.lmdb.durability.rawValue)
        if let d = StrataConfig.LMDB.Durability(rawValue: durability) {
            c.engine.lmdb.durability = d
        } else {
            r.fail("engine.lmdb.durability", "unknown durability \"\(durability)\" (sync or relaxed)")
        }
        c.engine.lmdb.mapSize = r.int("engine.lmdb.map_size", c.engine.lmdb.mapSize)
        c.engine.lmdb.compressMinSize = r.int("engine.lmdb.compress_min_size", c.engine.lmdb.compressMinSize)
        c.engine.lmdb.compressionLevel = r.int("engine.lmdb.compression_level", c.engine.lmdb.compressionLevel)
        c.engine.lmdb.readahead = r.bool("engine.lmdb.readahead", true)
        c.engine.redis = redis("engine.redis", r)
        c.engine.idempotentResultTTLSeconds = seconds(
            r, "engine.idempotent_result_ttl", scope: .root, errorPath: "engine.idempotent_result_ttl", default: c.engine.idempotentResultTTLSeconds)
        if c.engine.idempotentResultTTLSeconds < 1 { r.fail("engine.idempotent_result_ttl", "must be at least 1s") }
        for (path, keyPath) in [("broker", \StrataConfig.broker), ("presence_manager", \StrataConfig.presenceManager)] {
            c[keyPath: keyPath].enabled = r.bool(path + ".enabled", false)
            c[keyPath: keyPath].type = r.string(path + ".type", "memory")
            c[keyPath: keyPath].redis = redis(path + ".redis", r)
            let types = path == "broker" ? ["memory", "redis", "nats"] : ["memory", "redis"]
            if c[keyPath: keyPath].enabled && !types.contains(c[keyPath: keyPath].type) {
                r.fail(path + ".type", "\"\(c[keyPath: keyPath].type)\" is not available (\(types.joined(separator: ", ")))")
            }
        }
        c.broker.nats = readNATS(r, on: c.broker.enabled && c.broker.type == "nats")
        c.httpAPI.key = r.string("http_api.key", "")
        c.httpAPI.insecure = r.bool("http_api.insecure", false)
        c.httpAPI.handlerPrefix = r.string("http_api.handler_prefix", c.httpAPI.handlerPrefix)
        c.httpAPI.disabled = r.bool("http_api.disabled", false)
        c.httpAPI.errorMode = r.string("http_api.error_mode", "")
        c.grpcAPI = readGRPCAPI(r, httpPort: c.httpServer.port)
        c.uniGRPC = readUniGRPC(r, httpPort: c.httpServer.port, grpcAPI: c.grpcAPI)
        c.websocket.disabled = r.bool("websocket.disabled", false)
        c.websocket.handlerPrefix = r.string("websocket.handler_prefix", c.websocket.handlerPrefix)
        c.websocket.messageSizeLimit = r.int("websocket.message_size_limit", c.websocket.messageSizeLimit)
        c.websocket.writeTimeoutMillis = r.duration("websocket.write_timeout", c.websocket.writeTimeoutMillis)
        c.websocket.compression = r.bool("websocket.compression", false)
        c.websocket.compressionMinSize = max(0, r.int("websocket.compression_min_size", 0))
        c.websocket.compressionLevel = r.int("websocket.compression_level", 1)
        c.websocket.decompressedMessageSizeLimit = max(0, r.int("websocket.decompressed_message_size_limit", 0))
        c.httpStream = readStreamEndpoint(r, "http_stream", c.httpStream)
        c.sse = readStreamEndpoint(r, "sse", c.sse)
        c.emulation = readStreamEndpoint(r, "emulation", c.emulation)
        c.emulation.enabled = true
        c.uniSSE = readStreamEndpoint(r, "uni_sse", c.uniSSE)
        c.uniHTTPStream = readStreamEndpoint(r, "uni_http_stream", c.uniHTTPStream)
        c.uniWebSocket.enabled = r.bool("uni_websocket.enabled", false)
        c.uniWebSocket.handlerPrefix = r.string("uni_websocket.handler_prefix", c.uniWebSocket.handlerPrefix)
        c.uniWebSocket.messageSizeLimit = r.int("uni_websocket.message_size_limit", c.uniWebSocket.messageSizeLimit)
        if c.uniWebSocket.messageSizeLimit <= 0 { c.uniWebSocket.messageSizeLimit = 65536 }
        c.uniWebSocket.writeTimeoutMillis = r.duration("uni_websocket.write_timeout", c.uniWebSocket.writeTimeoutMillis)
        c.uniWebSocket.joinPushMessages = r.bool("uni_websocket.join_push_messages", false)
        c.uniWebSocket.disableDisconnectPush = r.bool("uni_websocket.disable_disconnect_push", false)
        c.uniWebSocket.disableClosingHandshake = r.bool("uni_websocket.disable_closing_handshake", false)
        c.uniWebSocket.compression = r.bool("uni_websocket.compression", false)
        c.uniWebSocket.compressionMinSize = max(0, r.int("uni_websocket.compression_min_size", 0))
        c.uniWebSocket.compressionLevel = r.int("uni_websocket.compression_level", 1)
        c.uniWebSocket.decompressedMessageSizeLimit = max(0, r.int("uni_websocket.decompressed_message_size_limit", 0))
        c.health.enabled = r.bool("health.enabled", false)
        c.health.handlerPrefix = r.string("health.handler_prefix", c.health.handlerPrefix)
        c.prometheus.enabled = r.bool("prometheus.enabled", false)
        c.prometheus.handlerPrefix = r.string("prometheus.handler_prefix", c.prometheus.handlerPrefix)
        c.recoveredPublicationsHistogram = r.bool("prometheus.recovered_publications_histogram", false)
        c.admin.enabled = r.bool("admin.enabled", false)
        c.admin.password = r.string("admin.password", "")
        c.admin.secret = r.string("admin.secret", "")
        c.admin.insecure = r.bool("admin.insecure", false)
        var adminPrefix = r.string("admin.handler_prefix", "")
        while adminPrefix.hasSuffix("/") { adminPrefix.removeLast() }
        if !adminPrefix.isEmpty && !adminPrefix.hasPrefix("/") { adminPrefix = "/" + adminPrefix }
        c.admin.handlerPrefix = adminPrefix
        c.admin.webPath = r.string("admin.web_path", "")
        _ = r.bool("admin.external", false)
        c.node.name = r.string("node.name", "")
        c.node.infoMetricsAggregateIntervalMillis = r.duration(
            "node.info_metrics_aggregate_interval", c.node.infoMetricsAggregateIntervalMillis)
        if c.node.infoMetricsAggregateIntervalMillis < 1000 { r.fail("node.info_metrics_aggregate_interval", "must be at least 1s") }
        c.pidFile = r.string("pid_file", "")
        c.shutdownTimeoutMillis = r.duration("shutdown.timeout", c.shutdownTimeoutMillis)
        if c.shutdownTimeoutMillis <= 0 { r.fail("shutdown.timeout", "must be a positive duration") }
        checkKeysNotActedOn(r)

        validate(&c, r)
        c.unknownKeys = r.unknownKeys()
        return (c, r)
    }

    /// The keys of `ConfigKeys` that Strata does not act on: read (so they are not unknown), and
    /// those that are refused fail when on, naming the key and what to do instead.
    static func checkKeysNotActedOn(_ r: ConfigReader) {
        for key in ConfigKeys.notActedOn where !key.path.hasPrefix(ConfigKeys.namespacePrefix) {
            if key.path.hasPrefix(ConfigKeys.redisPrefix) {
                let rest = key.path.dropFirst(ConfigKeys.redisPrefix.count)
                for section in ConfigKeys.redisSections { check(r, section + rest, key.status) }
            } else {
                check(r, key.path, key.status)
            }
        }
    }

    /// One key not acted on; `list[].key` checks `key` in every element of `list`.
    static func check(_ r: ConfigReader, _ path: String, _ status: ConfigKey.Status, scope: ConfigReader.Scope = .root) {
        if let brackets = path.range(of: "[].") {
            let list = String(path[..<brackets.lowerBound])
            let key = String(path[brackets.upperBound...])
            for (i, item) in r.objects(list).enumerated() {
                let itemPath = "\(list)[\(i)]"
                check(r, key, status, scope: .init(pathPrefix: itemPath + ".", envPrefix: "\(ConfigReader.envKey(itemPath))_", base: item))
            }
            // The list's other keys are accepted with it (`objects` asks for them one by one).
            _ = r.raw(list)
            return
        }
        guard let (value, _) = r.raw(path, scope: scope) else { return }
        if case .refusedWhenOn(let why) = status, value.isOn, !insideSwitchedOff(r, path, scope: scope) {
            r.fail(scope.pathPrefix + path, why)
        }
    }

    /// Whether a key lies in a section that is switched off (`uni_grpc.tls.enabled` while
    /// `uni_grpc.enabled` is not on): Centrifugo never reads it then, so a config it starts with
    /// starts Strata too.
    static func insideSwitchedOff(_ r: ConfigReader, _ path: String, scope: ConfigReader.Scope) -> Bool {
        var parts = path.split(separator: ".").dropLast()
        // The key's own section is what it switches on (`uni_grpc.tls` for `uni_grpc.tls.enabled`).
        if path.hasSuffix(".enabled") { parts = parts.dropLast() }
        while !parts.isEmpty {
            let section = parts.joined(separator: ".")
            if ConfigKeys.isKnown(section + ".enabled"), r.raw(section + ".enabled", scope: scope)?.0.isOn != true { return true }
            parts = parts.dropLast()
        }
        return false
    }

    static func readStreamEndpoint(_ r: ConfigReader, _ section: String, _ def: StrataConfig.StreamEndpoint) -> StrataConfig.StreamEndpoint {
        var e = def
        if section != "emulation" { e.enabled = r.bool("\(section).enabled", def.enabled) }
        e.handlerPrefix = r.string("\(section).handler_prefix", def.handlerPrefix)
        e.maxRequestBodySize = r.int("\(section).max_request_body_size", def.maxRequestBodySize)
        if e.maxRequestBodySize <= 0 { e.maxRequestBodySize = 65536 }
        if section.hasPrefix("uni_") {
            e.connectCodeToHTTPResponse = readTransforms(r, "\(section).connect_code_to_http_response") { r, scope, path in
                let status = r.int("to.status_code", 0, scope: scope)
                if !(100...599).contains(status) { r.fail(path + ".to.status_code", "must be an HTTP status") }
                return StrataConfig.HTTPResponseTransform(
                    code: r.int("code", 0, scope: scope), statusCode: status, body: r.string("to.body", "", scope: scope))
            }
        }
        return e
    }

    /// `<section>.enabled` and `<section>.transforms[]`: nil when not enabled; every item's `code`
    /// must be positive (Centrifugo refuses to start otherwise).
    static func readTransforms<T>(
        _ r: ConfigReader, _ section: String, item: (ConfigReader, ConfigReader.Scope, String) -> T
    ) -> [T]? {
        guard r.bool("\(section).enabled", false) else {
            _ = r.raw("\(section).transforms")
            return nil
        }
        var out: [T] = []
        for (i, value) in r.objects("\(section).transforms").enumerated() {
            let path = "\(section).transforms[\(i)]"
            guard case .object = value else {
                r.fail(path, "expected an object")
                continue
            }
            let scope = ConfigReader.Scope(pathPrefix: path + ".", envPrefix: "\(ConfigReader.envKey(path))_", base: value)
            if r.int("code", 0, scope: scope) <= 0 { r.fail(path + ".code", "must be a positive code") }
            out.append(item(r, scope, path))
        }
        return out
    }

    static func readToken(_ r: ConfigReader, _ prefix: String) -> StrataConfig.Token {
        var t = StrataConfig.Token()
        t.hmacSecretKey = r.string("\(prefix).hmac_secret_key", "")
        t.hmacPreviousSecretKey = r.string("\(prefix).hmac_previous_secret_key", "")
        t.hmacPreviousSecretKeyValidUntil = Int64(r.int("\(prefix).hmac_previous_secret_key_valid_until", 0))
        t.rsaPublicKey = r.string("\(prefix).rsa_public_key", "")
        t.ecdsaPublicKey = r.string("\(prefix).ecdsa_public_key", "")
        t.jwksPublicEndpoint = r.string("\(prefix).jwks_public_endpoint", "")
        let jwks = t.jwksPublicEndpoint
        if !jwks.isEmpty {
            if !(jwks.hasPrefix("https://") || jwks.hasPrefix("http://")) {
                r.fail("\(prefix).jwks_public_endpoint", "expected an http(s) URL, got \"\(jwks)\"")
            } else if jwks.contains("{{") {
                // Centrifugo fills {{…}} from issuer_regex/audience_regex groups of the token
                // before its signature is checked, which is how its JWKS SSRF came about.
                r.fail("\(prefix).jwks_public_endpoint", "templated JWKS URLs ({{…}}) are not supported: give one fixed URL")
            }
        }
        t.audience = r.string("\(prefix).audience", "")
        t.audienceRegex = r.string("\(prefix).audience_regex", "")
        t.issuer = r.string("\(prefix).issuer", "")
        t.issuerRegex = r.string("\(prefix).issuer_regex", "")
        t.userIDClaim = r.string("\(prefix).user_id_claim", "")
        return t
    }

    /// Options of one namespace, read relative to its object (`scope.base`) so errors and env
    /// overrides name the full path.
    static func readOptions(_ r: ConfigReader, scope: ConfigReader.Scope, globalFormat: String) -> ChannelOptions {
        var o = ChannelOptions()
        let prefix = ""
        let errorPrefix = scope.pathPrefix
        let b = { (key: String) in r.bool(prefix + key, false, scope: scope) }
        let path = { (key: String) in errorPrefix + prefix + key }
        o.historySize = r.int(prefix + "history_size", 0, scope: scope)
        o.historyTTLSeconds = seconds(r, prefix + "history_ttl", scope: scope, errorPath: path("history_ttl"))
        o.historyMetaTTLSeconds = seconds(r, prefix + "history_meta_ttl", scope: scope, errorPath: path("history_meta_ttl"))
        o.forcePositioning = b("force_positioning")
        o.allowPositioning = b("allow_positioning")
        o.forceRecovery = b("force_recovery")
        o.allowRecovery = b("allow_recovery")
        let mode = r.string(prefix + "force_recovery_mode", "", scope: scope)
        switch mode {
        case "", "stream": o.forceRecoveryMode = .stream
        case "cache": o.forceRecoveryMode = .cache
        default: r.fail(path("force_recovery_mode"), "unknown recovery mode \"\(mode)\" (want \"stream\" or \"cache\")")
        }
        o.autoCacheRecover = b("auto_cache_recover")
        o.cacheKeyTag = r.string(prefix + "cache_key_tag", "", scope: scope)
        o.cacheKeyLimit = r.int(prefix + "cache_key_limit", 10_000, scope: scope)
        o.allowedDeltaTypes = r.strings(prefix + "allowed_delta_types", [], scope: scope)
        for t in o.allowedDeltaTypes where t != "fossil" {
            r.fail(path("allowed_delta_types"), "unknown delta type \"\(t)\" (only \"fossil\")")
        }
        o.deltaPublish = b("delta_publish")
        o.presence = b("presence")
        o.joinLeave = b("join_leave")
        o.forcePushJoinLeave = b("force_push_join_leave")
        o.allowSubscribeForClient = b("allow_subscribe_for_client")
        o.allowSubscribeForAnonymous = b("allow_subscribe_for_anonymous")
        o.allowPublishForClient = b("allow_publish_for_client")
        o.allowPublishForSubscriber = b("allow_publish_for_subscriber")
        o.allowPublishForAnonymous = b("allow_publish_for_anonymous")
        o.allowHistoryForClient = b("allow_history_for_client")
        o.allowHistoryForSubscriber = b("allow_history_for_subscriber")
        o.allowHistoryForAnonymous = b("allow_history_for_anonymous")
        o.allowPresenceForClient = b("allow_presence_for_client")
        o.allowPresenceForSubscriber = b("allow_presence_for_subscriber")
        o.allowPresenceForAnonymous = b("allow_presence_for_anonymous")
        o.allowUserLimitedChannels = b("allow_user_limited_channels")
        o.allowTagsFilter = b("allow_tags_filter")
        o.channelRegex = r.string(prefix + "channel_regex", "", scope: scope)
        if !o.channelRegex.isEmpty, (try? NSRegularExpression(pattern: o.channelRegex)) == nil {
            r.fail(path("channel_regex"), "invalid regular expression")
        }
        let format = r.string(prefix + "publication_data_format", globalFormat, scope: scope)
        if let f = ChannelOptions.DataFormat(rawValue: format) {
            o.publicationDataFormat = f
        } else {
            r.fail(path("publication_data_format"), "unknown data format \"\(format)\"")
        }
        // `*_proxy_enabled` with `*_proxy_name` ("default" when absent or empty): the proxy's
        // name, checked against the proxies in `resolveProxies`.
        func proxyName(_ event: String) -> String? {
            guard b("\(event)_proxy_enabled") else {
                _ = r.raw("\(event)_proxy_name", scope: scope)
                return nil
            }
            let name = r.string("\(event)_proxy_name", "default", scope: scope)
            return name.isEmpty ? "default" : name
        }
        o.subscribeProxy = proxyName("subscribe")
        o.publishProxy = proxyName("publish")
        o.subRefreshProxy = proxyName("sub_refresh")
        for key in ConfigKeys.notActedOn where key.path.hasPrefix(ConfigKeys.namespacePrefix) {
            let option = String(key.path.dropFirst(ConfigKeys.namespacePrefix.count))
            check(r, option, key.status, scope: scope)
        }
        let type = r.string(prefix + "subscription_type", "", scope: scope)
        if !(type == "" || type == "stream") {
            r.fail(path("subscription_type"), "subscription type \"\(type)\" is not supported (only stream)")
        }
        return o
    }

    /// A TLS section for a server: when enabled, a certificate and its key are required, each
    /// PEM text, a file or base64 PEM (`PEMSource`); `client_ca_pem` turns on client certificates.
    static func readTLS(_ r: ConfigReader, _ path: String) -> StrataConfig.TLS {
        var tls = StrataConfig.TLS()
        tls.enabled = r.bool(path + ".enabled", false)
        // Read whether on or not: a Centrifugo config keeps its TLS settings while TLS is off.
        let values = ["cert_pem", "key_pem", "client_ca_pem"].map { r.string("\(path).\($0)", "") }
        guard tls.enabled else { return tls }
        func pem(_ key: String, _ value: String, required: Bool) -> String {
            if value.isEmpty {
                if required { r.fail("\(path).\(key)", "required when \(path).enabled is on") }
                return ""
            }
            switch PEMSource.resolve(value) {
            case .success(let text): return text
            case .failure(let error):
                r.fail("\(path).\(key)", error.message)
                return ""
            }
        }
        tls.certPEM = pem("cert_pem", values[0], required: true)
        tls.keyPEM = pem("key_pem", values[1], required: true)
        tls.clientCAPEM = pem("client_ca_pem", values[2], required: false)
        return tls
    }

    /// A client-side TLS section (`engine.redis.tls`): a certificate and key only together,
    /// each PEM text, a file or base64 PEM; `server_ca_pem` replaces the system's roots.
    static func readClientTLS(_ r: ConfigReader, _ path: String) -> StrataConfig.ClientTLS {
        var tls = StrataConfig.ClientTLS()
        tls.enabled = r.bool(path + ".enabled", false)
        let values = ["cert_pem", "key_pem", "server_ca_pem"].map { r.string("\(path).\($0)", "") }
        tls.insecureSkipVerify = r.bool(path + ".insecure_skip_verify", false)
        tls.serverName = r.string(path + ".server_name", "")
        // Resolved whether on or not: `rediss://` uses the section's settings with enabled off.
        func pem(_ key: String, _ value: String) -> String {
            guard !value.isEmpty else { return "" }
            switch PEMSource.resolve(value) {
            case .success(let text): return text
            case .failure(let error):
                r.fail("\(path).\(key)", error.message)
                return ""
            }
        }
        tls.certPEM = pem("cert_pem", values[0])
        tls.keyPEM = pem("key_pem", values[1])
        tls.serverCAPEM = pem("server_ca_pem", values[2])
        if values[0].isEmpty != values[1].isEmpty {
            r.fail("\(path).\(values[0].isEmpty ? "cert_pem" : "key_pem")", "cert_pem and key_pem go together (a client certificate and its key)")
        }
        return tls
    }

    /// `http_server.tls_autocert`, checked so that a server told to get certificates either can
    /// ask for them or does not start: HTTP-01 needs `http` on, and some host names.
    static func readAutocert(_ r: ConfigReader, serverPort: Int) -> StrataConfig.TLSAutocert {
        let path = "http_server.tls_autocert"
        var a = StrataConfig.TLSAutocert()
        a.enabled = r.bool(path + ".enabled", false)
        let whitelist = r.strings(path + ".host_whitelist", [])
        a.serverName = r.string(path + ".server_name", "").lowercased()
        a.cacheDir = r.string(path + ".cache_dir", "")
        a.email = r.string(path + ".email", "")
        let http = r.bool(path + ".http", false)
        let httpAddr = r.string(path + ".http_addr", ":80")
        a.directoryURL = r.string(path + ".directory_url", a.directoryURL)
        let ca = r.string(path + ".directory_ca_pem", "")
        a.renewBeforeMillis = r.duration(path + ".renew_before", a.renewBeforeMillis)
        guard a.enabled else { return a }

        if !http {
            r.fail(path + ".http", "Strata answers ACME's HTTP-01 challenge only (not TLS-ALPN-01): turn http on and let the CA reach http_addr (default :80)")
        }
        if let (host, port) = HostPort.parse(httpAddr) {
            a.httpHost = host
            a.httpPort = port
            if port == serverPort { r.fail(path + ".http_addr", "port \(port) is http_server.port: the challenge listener needs a port of its own") }
        } else {
            r.fail(path + ".http_addr", "expected host:port or :port, got \"\(httpAddr)\"")
        }
        var hosts: [String] = []
        for (i, name) in whitelist.enumerated() {
            let host = name.lowercased()
            if let problem = HostPort.dnsNameProblem(host) {
                r.fail("\(path).host_whitelist[\(i)]", "\"\(name)\" \(problem)")
            } else if !hosts.contains(host) {
                hosts.append(host)
            }
        }
        if whitelist.isEmpty {
            if a.serverName.isEmpty {
                r.fail(path + ".host_whitelist", "list the host names to have certificates for (or give server_name)")
            } else if let problem = HostPort.dnsNameProblem(a.serverName) {
                r.fail(path + ".server_name", "\"\(a.serverName)\" \(problem)")
            } else {
                hosts = [a.serverName]
            }
        } else if !a.serverName.isEmpty && !hosts.isEmpty && !hosts.contains(a.serverName) {
            r.fail(path + ".server_name", "\"\(a.serverName)\" is not in host_whitelist")
        }
        a.hosts = hosts
        if !(a.directoryURL.hasPrefix("https://") || a.directoryURL.hasPrefix("http://")) {
            r.fail(path + ".directory_url", "expected an http(s) URL of an ACME directory, got \"\(a.directoryURL)\"")
        }
        if !ca.isEmpty {
            switch PEMSource.resolve(ca) {
            case .success(let text): a.directoryCAPEM = text
            case .failure(let error): r.fail(path + ".directory_ca_pem", error.message)
            }
        }
        if a.renewBeforeMillis <= 0 { r.fail(path + ".renew_before", "must be a positive duration") }
        return a
    }

    /// `grpc_api`: its own listener, so not on the HTTP server's port.
    static func readGRPCAPI(_ r: ConfigReader, httpPort: Int) -> StrataConfig.GRPCAPI {
        var g = StrataConfig.GRPCAPI()
        g.enabled = r.bool("grpc_api.enabled", false)
        g.address = r.string("grpc_api.address", "")
        g.port = r.int("grpc_api.port", g.port)
        g.key = r.string("grpc_api.key", "")
        g.errorMode = r.string("grpc_api.error_mode", "")
        let limit = r.int("grpc_api.max_receive_message_size", 0)
        if limit > 0 { g.maxReceiveMessageSize = limit }
        guard g.enabled else { return g }
        if !["", "transport"].contains(g.errorMode) {
            r.fail("grpc_api.error_mode", "unknown error mode \"\(g.errorMode)\" (\"\" or transport)")
        }
        if !(1...65535).contains(g.port) {
            r.fail("grpc_api.port", "must be a port number")
        } else if g.port == httpPort {
            r.fail("grpc_api.port", "the gRPC API needs its own port, not http_server.port (\(httpPort))")
        }
        if limit < 0 { r.fail("grpc_api.max_receive_message_size", "must not be negative") }
        return g
    }

    /// `uni_grpc`: its own listener, so on neither the HTTP server's port nor the gRPC API's.
    static func readUniGRPC(_ r: ConfigReader, httpPort: Int, grpcAPI: StrataConfig.GRPCAPI) -> StrataConfig.UniGRPC {
        var u = StrataConfig.UniGRPC()
        u.enabled = r.bool("uni_grpc.enabled", false)
        u.address = r.string("uni_grpc.address", "")
        u.port = r.int("uni_grpc.port", u.port)
        let limit = r.int("uni_grpc.max_receive_message_size", 0)
        if limit > 0 { u.maxReceiveMessageSize = limit }
        guard u.enabled else { return u }
        if !(1...65535).contains(u.port) {
            r.fail("uni_grpc.port", "must be a port number")
        } else if u.port == httpPort {
            r.fail("uni_grpc.port", "uni_grpc needs its own port, not http_server.port (\(httpPort))")
        } else if grpcAPI.enabled && u.port == grpcAPI.port {
            r.fail("uni_grpc.port", "uni_grpc needs its own port, not grpc_api.port (\(grpcAPI.port))")
        }
        if limit < 0 { r.fail("uni_grpc.max_receive_message_size", "must not be negative") }
        return u
    }

    /// TTLs must be whole seconds.
    private static func seconds(_ r: ConfigReader, _ key: String, scope: ConfigReader.Scope, errorPath: String, default def: Int64 = 0) -> Int64 {
        let ms = r.duration(key, def * 1000, scope: scope)
        if ms < 0 { r.fail(errorPath, "must not be negative"); return 0 }
        if ms % 1000 != 0 { r.fail(errorPath, "must be a whole number of seconds") }
        return ms / 1000
    }

    /// `broker.nats`: Centrifugo's keys; the URL's servers (`nats://[user:password@|token@]host[:port]`,
    /// several separated by commas) are checked only when the NATS broker is on.
    static func readNATS(_ r: ConfigReader, on: Bool) -> StrataConfig.NATS {
        var n = StrataConfig.NATS()
        n.url = r.string("broker.nats.url", n.url)
        n.prefix = r.string("broker.nats.prefix", n.prefix)
        n.dialTimeoutMillis = r.duration("broker.nats.dial_timeout", n.dialTimeoutMillis)
        n.writeTimeoutMillis = r.duration("broker.nats.write_timeout", n.writeTimeoutMillis)
        n.tls = readClientTLS(r, "broker.nats.tls")
        guard on else { return n }
        if n.prefix.isEmpty { r.fail("broker.nats.prefix", "must not be empty") }
        if n.dialTimeoutMillis <= 0 { r.fail("broker.nats.dial_timeout", "must be positive") }
        if n.writeTimeoutMillis <= 0 { r.fail("broker.nats.write_timeout", "must be positive") }
        n.servers = []
        for part in n.url.split(separator: ",") {
            var rest = Substring(part.trimmingCharacters(in: .whitespaces))
            // tls:// asks for TLS with the section's settings (or the system's roots), as Go's client.
            if rest.hasPrefix("tls://") {
                n.tls.enabled = true
                rest = rest.dropFirst("tls://".count)
            }
            if rest.hasPrefix("nats://") { rest = rest.dropFirst("nats://".count) }
            var server = StrataConfig.NATS.Server(host: "", port: 4222)
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                rest = rest[rest.index(after: at)...]
                if let colon = credentials.firstIndex(of: ":") {
                    server.user = Self.percentDecoded(credentials[..<colon])
                    server.password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
                } else {
                    server.token = Self.percentDecoded(credentials)
                }
            }
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if let colon = rest.lastIndex(of: ":") {
                guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                    r.fail("broker.nats.url", "bad port in \"\(part)\"")
                    return n
                }
                server.port = port
                rest = rest[..<colon]
            }
            guard !rest.isEmpty else {
                r.fail("broker.nats.url", "no host in \"\(part)\"")
                return n
            }
            server.host = String(rest)
            n.servers.append(server)
        }
        if n.servers.isEmpty { r.fail("broker.nats.url", "needs a server") }
        return n
    }

    /// One Redis section (`engine.redis`, `broker.redis`, `presence_manager.redis`).
    static func redis(_ path: String, _ r: ConfigReader) -> StrataConfig.Redis {
        var redis = StrataConfig.Redis()
        redis.address = r.strings(path + ".address", redis.address)
        redis.prefix = r.string(path + ".prefix", redis.prefix)
        redis.connectTimeoutMillis = r.duration(path + ".connect_timeout", redis.connectTimeoutMillis)
        redis.ioTimeoutMillis = r.duration(path + ".io_timeout", redis.ioTimeoutMillis)
        redis.presenceTTLMillis = r.duration(path + ".presence_ttl", redis.presenceTTLMillis)
        redis.probeIntervalMillis = r.duration(path + ".probe_interval", redis.probeIntervalMillis)
        if redis.probeIntervalMillis < 100 { r.fail(path + ".probe_interval", "must be at least 100ms (a Redis that stops answering must be noticed)") }
        redis.user = r.string(path + ".user", "")
        redis.password = r.string(path + ".password", "")
        redis.db = r.int(path + ".db", 0)
        if redis.db < 0 { r.fail(path + ".db", "must not be negative") }
        redis.tls = readClientTLS(r, path + ".tls")
        let clusterAddresses = r.strings(path + ".cluster_address", [])
        let sentinelAddresses = r.strings(path + ".sentinel_address", [])
        redis.sentinelMasterName = r.string(path + ".sentinel_master_name", "")
        redis.sentinelUser = r.string(path + ".sentinel_user", "")
        redis.sentinelPassword = r.string(path + ".sentinel_password", "")
        redis.sentinelTLS = readClientTLS(r, path + ".sentinel_tls")
        // Centrifugo's form for both: each entry is one shard, its addresses separated by commas.
        // A cluster wins over Sentinels, as in Centrifugo.
        if !clusterAddresses.isEmpty {
            if redis.db != 0 { r.fail(path + ".db", "Redis Cluster has only database 0") }
            redis.clusters = addressLists(clusterAddresses, at: path + ".cluster_address", what: "Redis Cluster", r)
        } else if !sentinelAddresses.isEmpty {
            if redis.sentinelMasterName.isEmpty { r.fail(path + ".sentinel_master_name", "required with sentinel_address") }
            redis.sentinels = addressLists(sentinelAddresses, at: path + ".sentinel_address", what: "Redis Sentinel", r)
        }
        let shards = redis.clusters.isEmpty ? redis.sentinels.count : redis.clusters.count
        if shards > 0 {
            redis.endpoints = (0..<shards).map { _ in
                .init(host: "", port: 0, user: redis.user, password: redis.password, db: redis.db, tls: redis.tls)
            }
            if redis.prefix.isEmpty { r.fail(path + ".prefix", "must not be empty") }
            return redis
        }
        if redis.address.isEmpty { r.fail(path + ".address", "needs at least one address") }
        redis.endpoints = []
        for (i, address) in redis.address.enumerated() {
            switch parseRedisAddress(
                address, defaults: .init(host: "", port: 0, user: redis.user, password: redis.password, db: redis.db, tls: redis.tls)) {
            case .success(let endpoint): redis.endpoints.append(endpoint)
            case .failure(let message): r.fail("\(path).address[\(i)]", message.text)
            }
        }
        if redis.prefix.isEmpty { r.fail(path + ".prefix", "must not be empty") }
        return redis
    }

    /// `entries` (each one shard: `host:port` addresses separated by commas), parsed; a
    /// malformed address fails at its entry's key.
    static func addressLists(_ entries: [String], at key: String, what: String, _ r: ConfigReader) -> [[StrataConfig.Redis.Address]] {
        entries.enumerated().map { i, entry in
            entry.split(separator: ",").compactMap { part -> StrataConfig.Redis.Address? in
                let text = part.trimmingCharacters(in: .whitespaces)
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
                    colon > text.startIndex
                else {
                    r.fail("\(key)[\(i)]", "malformed \(what) address \"\(text)\" (host:port)")
                    return nil
                }
                return .init(host: String(text[..<colon]), port: port)
            }
        }
    }

    struct AddressError: Error {
        let text: String
    }

    /// `redis://[[user]:password@]host[:port][/db]`, `host:port` or `host`; the URL's user,
    /// password and database replace `defaults`' (the section's keys), as in Centrifugo.
    /// `rediss://` or `?tls_enabled=true` turn TLS on with the section's `tls` settings.
    static func parseRedisAddress(
        _ address: String, defaults: StrataConfig.Redis.Endpoint = .init(host: "", port: 0)
    ) -> Result<StrataConfig.Redis.Endpoint, AddressError> {
        var endpoint = defaults
        var rest = Substring(address)
        if rest.hasPrefix("redis+sentinel://") || rest.hasPrefix("rediss+sentinel://") {
            return .failure(AddressError(text: "the redis+sentinel:// form is not read yet: use sentinel_address and sentinel_master_name"))
        }
        if rest.hasPrefix("redis+cluster://") {
            return .failure(AddressError(text: "the redis+cluster:// form is not read yet: use cluster_address"))
        }
        if rest.hasPrefix("unix://") { return .failure(AddressError(text: "unix sockets are not supported yet: use host:port")) }
        let isURL = rest.hasPrefix("redis://") || rest.hasPrefix("rediss://")
        if rest.hasPrefix("rediss://") {
            endpoint.tls.enabled = true
            rest = rest.dropFirst("rediss://".count)
        } else if isURL {
            rest = rest.dropFirst("redis://".count)
        }
        if let at = rest.lastIndex(of: "@") {
            guard isURL else { return .failure(AddressError(text: "credentials need a redis:// URL in \"\(address)\"")) }
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            // An empty user keeps the section's (`redis://:password@host`), as Centrifugo reads it.
            let colon = credentials.firstIndex(of: ":")
            let user = Self.percentDecoded(credentials[..<(colon ?? credentials.endIndex)])
            if !user.isEmpty { endpoint.user = user }
            if let colon { endpoint.password = Self.percentDecoded(credentials[credentials.index(after: colon)...]) }
        }
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.first == "tls_enabled" else { continue }
                switch parts.count > 1 ? parts[1].lowercased() : "" {
                case "1", "t", "true": endpoint.tls.enabled = true
                case "0", "f", "false": break
                default: return .failure(AddressError(text: "invalid tls_enabled value in \"\(address)\""))
                }
            }
            rest = rest[..<question]
        }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else {
                    return .failure(AddressError(text: "can't parse Redis DB number from \"\(address)\": \(db) is not a number"))
                }
                endpoint.db = n
            }
            rest = rest[..<slash]
        }
        var host = rest
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                return .failure(AddressError(text: "bad port in \"\(address)\""))
            }
            port = p
        }
        guard !host.isEmpty else { return .failure(AddressError(text: "no host in \"\(address)\"")) }
        endpoint.host = String(host)
        endpoint.port = port
        return .success(endpoint)
    }

    /// A URL's user or password with its `%XX` escapes undone (a password may hold `@` or `:`);
    /// as it is when an escape is malformed.
    static func percentDecoded(_ s: Substring) -> String {
        String(s).removingPercentEncoding ?? String(s)
    }

    static func validate(_ c: inout StrataConfig, _ r: ConfigReader) {
        if !(1...65535).contains(c.httpServer.port) { r.fail("http_server.port", "must be between 1 and 65535") }
        if !["none", "trace", "debug", "info", "warn", "error"].contains(c.log.level) {
            r.fail("log.level", "unknown level \"\(c.log.level)\" (none, trace, debug, info, warn, error)")
        }
        if !["memory", "lmdb", "redis"].contains(c.engine.type) {
            r.fail("engine.type", "engine \"\(c.engine.type)\" is not available (lmdb, memory or redis)")
        }
        if c.engine.lmdb.mapSize < 1 << 20 { r.fail("engine.lmdb.map_size", "must be at least 1 MiB") }
        if !(1...19).contains(c.engine.lmdb.compressionLevel) { r.fail("engine.lmdb.compression_level", "must be 1…19") }
        if !["", "transport"].contains(c.httpAPI.errorMode) { r.fail("http_api.error_mode", "must be \"\" or \"transport\"") }
        if c.websocket.messageSizeLimit <= 0 { r.fail("websocket.message_size_limit", "must be positive") }
        if c.client.queueMaxSize <= 0 { r.fail("client.queue_max_size", "must be positive") }
        if c.client.channelLimit < 0 { r.fail("client.channel_limit", "must not be negative") }
        if c.client.commandRateLimit < 0 { r.fail("client.command_rate_limit", "must not be negative") }
        if c.client.connectionRateLimit < 0 { r.fail("client.connection_rate_limit", "must not be negative") }
        if c.client.connectionRateLimitPerIP < 0 { r.fail("client.connection_rate_limit_per_ip", "must not be negative") }
        if c.channel.maxLength <= 0 { r.fail("channel.max_length", "must be positive") }
        if c.client.pingIntervalMillis > 0, c.client.pongTimeoutMillis >= c.client.pingIntervalMillis {
            r.fail("client.pong_timeout", "must be less than client.ping_interval")
        }
        var all = [("channel.without_namespace", c.channel.withoutNamespace)]
        for (i, ns) in c.channel.namespaces.enumerated() { all.append(("channel.namespaces[\(i)]", ns)) }
        for (path, o) in all {
            if (o.historySize > 0) != (o.historyTTLSeconds > 0) {
                r.fail(path, "history_size and history_ttl must be set together")
            }
            let metaTTL = o.historyMetaTTLSeconds > 0 ? o.historyMetaTTLSeconds : c.channel.historyMetaTTLSeconds
            if o.historyTTLSeconds > metaTTL {
                r.fail(path + ".history_ttl", "must not exceed history_meta_ttl (\(metaTTL)s)")
            }
            if o.forceRecovery && !o.keepsHistory { r.fail(path + ".force_recovery", "needs history_size and history_ttl") }
            if o.autoCacheRecover && !(o.forceRecovery && o.forceRecoveryMode == .cache) {
                r.fail(path + ".auto_cache_recover", "needs force_recovery and force_recovery_mode \"cache\"")
            }
            if !o.cacheKeyTag.isEmpty && !(o.keepsHistory && o.forceRecoveryMode == .cache) {
                r.fail(path + ".cache_key_tag", "needs history_size, history_ttl and force_recovery_mode \"cache\"")
            }
            if o.cacheKeyLimit < 1 || o.cacheKeyLimit > 1_000_000 {
                r.fail(path + ".cache_key_limit", "must be between 1 and 1000000")
            }
        }
    }
}
