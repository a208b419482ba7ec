import Foundation

/// Every configuration key Strata accepts and what it does with it: the one list that the
/// loader, `strata configdoc` and `docs/configuration-keys.md` agree on.
///
/// Why a list: a setting that is accepted and silently ignored is a trap (a server told to use
/// TLS that serves cleartext). So each key Centrifugo v6.9.1 has is one of three things here —
/// it works; or Strata does not do it yet, and turning it on stops the start with an error that
/// names the key (`checkconfig` says the same); or it cannot change what Strata does, and the
/// reason is written beside it. `ConfigKeysTests` reads a full config and fails when the loader
/// reads a key this list does not name, or this list names a key the loader never reads.
package struct ConfigKey: Sendable, Equatable {
    package enum Status: Sendable, Equatable {
        /// Read and acted on.
        case works
        /// Not done yet: refused at start when on (true, a non-empty string or list, a non-zero
        /// number). The text says what to do instead.
        case refusedWhenOn(String)
        /// Accepted and ignored, because it cannot change what Strata does: the text says why.
        /// A section path (`proxies`) covers every key below it.
        case inert(String)
    }

    /// The key path. `channel.namespaces[].` keys are namespace options, which
    /// `channel.without_namespace.` takes too (all but `name`); `engine.redis.` keys are also
    /// `broker.redis.` and `presence_manager.redis.` keys.
    package let path: String
    package let status: Status
    /// What the key does, for the generated table (one line; empty when the name says it).
    package let note: String

    init(_ path: String, _ status: Status, _ note: String = "") {
        self.path = path
        self.status = status
        self.note = note
    }
}

package enum ConfigKeys {
    package static let namespacePrefix = "channel.namespaces[]."
    package static let redisPrefix = "engine.redis."
    static let redisSections = ["engine.redis.", "broker.redis.", "presence_manager.redis."]

    // Reasons shared by several keys.
    private static let noInternalPort =
        "Strata serves one port (no separate internal port yet): http_server.tls covers all of it"
    private static let goBuffers = "buffer tuning of Centrifugo's Go WebSocket library; Strata sizes its buffers itself"

    package static let all: [ConfigKey] = server + client + channel + namespace + engine + api + transports + operations

    static let server: [ConfigKey] = [
        .init("http_server.address", .works, "listen address (all interfaces when empty)"),
        .init("http_server.port", .works, "listen port (8000)"),
        .init("http_server.internal_address", .refusedWhenOn(
            "a separate internal listener is not implemented yet: Strata serves the API, /health and /metrics on http_server.port; bind that to a private address or filter the paths in front")),
        .init("http_server.internal_port", .refusedWhenOn(
            "a separate internal listener is not implemented yet: Strata serves the API, /health and /metrics on http_server.port; bind that to a private address or filter the paths in front")),
        .init("http_server.tls.enabled", .works, "TLS on the port: WebSocket, HTTP streams, the API (swift-nio-ssl)"),
        .init("http_server.tls.cert_pem", .works, "PEM text, a file path or base64 PEM"),
        .init("http_server.tls.key_pem", .works, "PEM text, a file path or base64 PEM"),
        .init("http_server.tls.client_ca_pem", .works, "clients must present a certificate this CA signed (mutual TLS)"),
        .init("http_server.tls.server_ca_pem", .inert("a client-side setting (the CA of servers Centrifugo connects to); Strata's server does not use it")),
        .init("http_server.tls.insecure_skip_verify", .inert("a client-side setting; Strata's server does not use it")),
        .init("http_server.tls.server_name", .inert("a client-side setting; Strata's server does not use it")),
        .init("http_server.tls_autocert.enabled", .works, "certificates from an ACME CA (HTTP-01), cached and renewed (docs/tls.md); wins over http_server.tls"),
        .init("http_server.tls_autocert.host_whitelist", .works, "the host names to have certificates for, had at start"),
        .init("http_server.tls_autocert.cache_dir", .works, "account key and certificates (Go autocert's file names); empty: kept in memory only"),
        .init("http_server.tls_autocert.email", .works, "the ACME account's contact"),
        .init("http_server.tls_autocert.server_name", .works, "the certificate a handshake without SNI gets"),
        .init("http_server.tls_autocert.http", .works, "the HTTP-01 challenge listener; must be on (TLS-ALPN-01 is not answered)"),
        .init("http_server.tls_autocert.http_addr", .works, "the challenge listener's address (:80); other requests there are redirected to HTTPS"),
        .init("http_server.tls_autocert.directory_url", .works, "Strata's own: the CA's ACME directory (Let's Encrypt's by default)"),
        .init("http_server.tls_autocert.directory_ca_pem", .works, "Strata's own: PEM roots to trust for the CA instead of the system's"),
        .init("http_server.tls_autocert.renew_before", .works, "Strata's own: renew this long before expiry (720h)"),
        .init("http_server.tls_external", .refusedWhenOn(noInternalPort)),
        .init("http_server.internal_tls", .inert("read only when http_server.internal_tls.enabled is on, which is refused")),
        .init("http_server.internal_tls.enabled", .refusedWhenOn(noInternalPort)),
        .init("http_server.http3", .inert("read only when http_server.http3.enabled is on, which is refused")),
        .init("http_server.http3.enabled", .refusedWhenOn("HTTP/3 is not implemented")),
        .init("http_server.h2c_external", .refusedWhenOn("HTTP/2 cleartext is not implemented")),
        .init("log.level", .works, "none, trace, debug, info, warn, error"),
        .init("log.file", .refusedWhenOn(
            "logs go to standard error; redirect it (systemd and Docker collect it), Strata does not write log files")),
        .init("pid_file", .works, "file to write the process id to at start (removed at a clean exit)"),
        .init("shutdown.timeout", .works, "after SIGTERM/SIGINT the process exits within this (30s); status 1 if cut short"),
        .init("node.name", .works, "shown in info"),
        .init("node.info_metrics_aggregate_interval", .works, "how often info's metrics snapshot is taken (60s)"),
    ]

    static let client: [ConfigKey] = token("client.token") + [
        .init("client.subscription_token.enabled", .works, "check subscription tokens with the keys below instead of client.token's"),
    ] + token("client.subscription_token") + [
        .init("client.allowed_origins", .works, "Origin patterns allowed on WebSocket upgrades and in CORS"),
        .init("client.allow_anonymous_connect_without_token", .works),
        .init("client.disallow_anonymous_connection_tokens", .works),
        .init("client.insecure", .works, "development: no authentication, every permission"),
        .init("client.insecure_skip_token_signature_verify", .works, "development"),
        .init("client.ping_interval", .works),
        .init("client.pong_timeout", .works),
        .init("client.expired_close_delay", .works),
        .init("client.expired_sub_close_delay", .works),
        .init("client.stale_close_delay", .works, "connections that send no connect are closed after this (3502)"),
        .init("client.channel_limit", .works, "subscriptions per connection (106)"),
        .init("client.queue_max_size", .works, "bytes queued per connection before 3008 slow"),
        .init("client.presence_update_interval", .works),
        .init("client.channel_position_check_delay", .works),
        .init("client.channel_position_max_time_lag", .refusedWhenOn("the publication time lag check is not implemented yet")),
        .init("client.connection_limit", .works, "connections per node"),
        .init("client.user_connection_limit", .works, "connections per user (3504)"),
        .init("client.connection_rate_limit", .works, "new connections per second per node (0: no limit); over it HTTP 503"),
        .init("client.connection_rate_limit_per_ip", .works, 
              "Strata: new connections per second from one address, an IPv6 /64 (0: no limit); over it HTTP 503"),
        .init("client.command_rate_limit", .works,
              "Strata: commands per second per connection (0: no limit); a command over it gets error 111"),
        .init("client.connect_include_server_time", .works),
        .init("client.concurrency", .inert(
            "a performance knob of Centrifugo: Strata answers one connection's commands in order, and clients match replies by id either way")),
        .init("client.history_max_publication_limit", .works),
        .init("client.recovery_max_publication_limit", .works),
        .init("client.recovery_stream_max_publication_limit", .works, "Strata: recovery of long gaps in pages (docs/recovery.md)"),
        .init("client.user_id_http_header", .refusedWhenOn(
            "taking the user from an HTTP header is not implemented yet: use connection tokens")),
        .init("client.subscribe_to_user_personal_channel", .inert(
            "read only when client.subscribe_to_user_personal_channel.enabled is on, which is refused")),
        .init("client.subscribe_to_user_personal_channel.enabled", .refusedWhenOn(
            "personal channel subscriptions are not implemented yet: list the channel in the connection token's channels")),
        .init("client.connect_code_to_unidirectional_disconnect.enabled", .works, "docs/transports.md"),
        .init("client.connect_code_to_unidirectional_disconnect.transforms", .works, "code, to.code, to.reason"),
        .init("client.proxy.connect.enabled", .works, "a connect without a token asks the backend (docs/proxy.md)"),
    ] + proxy("client.proxy.connect", meta: .inert("a connect request has no meta to include (as in Centrifugo)")) + [
        .init("client.proxy.refresh.enabled", .works, "expiring connections are refreshed by the backend, not by the client (docs/proxy.md)"),
    ] + proxy("client.proxy.refresh")

    /// The keys of one proxy object (Centrifugo's shape, the same wherever it sits); `meta`:
    /// what `include_connection_meta` is there.
    private static func proxy(_ prefix: String, meta: ConfigKey.Status = .works) -> [ConfigKey] {
        [
            .init("\(prefix).endpoint", .works, "http:// or https:// URL, used as is; else gRPC: grpc://host:port or host:port"),
            .init("\(prefix).timeout", .works, "the whole call (1s)"),
            .init("\(prefix).http_headers", .works, "headers of the connection's HTTP request to forward"),
            .init("\(prefix).emulated_headers", .works, "headers of the connect command's headers map to forward (the client sets them)"),
            .init("\(prefix).grpc_metadata", .works, "metadata keys of uni_grpc connections to forward, as written"),
            .init("\(prefix).binary_encoding", .works, "payloads as b64data"),
            .init("\(prefix).include_connection_meta", meta, "the connection's meta (token or connect proxy) in the request"),
            .init("\(prefix).http.static_headers", .works, "headers added to every request"),
            .init("\(prefix).http.status_to_code_transforms", .works, "non-200 statuses made into an error or a disconnect"),
            .init("\(prefix).http.tls", .inert("read only when \(prefix).http.tls.enabled is on, which is refused")),
            .init("\(prefix).http.tls.enabled", .refusedWhenOn(
                "client certificates and custom CAs for the backend are not implemented: https endpoints are checked against the system's trust store")),
            .init("\(prefix).grpc.compression", .works, "gzip-compressed gRPC requests"),
            .init("\(prefix).grpc.credentials_key", .works, "a metadata key sent with every gRPC call"),
            .init("\(prefix).grpc.credentials_value", .works, "its value"),
            .init("\(prefix).grpc.static_metadata", .works, "metadata added to every gRPC call"),
            .init("\(prefix).grpc.tls", .inert("read only when \(prefix).grpc.tls.enabled is on, which is refused")),
            .init("\(prefix).grpc.tls.enabled", .refusedWhenOn(
                "TLS to a gRPC backend is not implemented yet: reach it over plaintext on a private network or through a local TLS proxy")),
        ]
    }

    private static func token(_ prefix: String) -> [ConfigKey] {
        [
            .init("\(prefix).hmac_secret_key", .works, "HS256/384/512"),
            .init("\(prefix).hmac_previous_secret_key", .works, "accepted until hmac_previous_secret_key_valid_until"),
            .init("\(prefix).hmac_previous_secret_key_valid_until", .works, "unix seconds"),
            .init("\(prefix).rsa_public_key", .works, "RS256/384/512"),
            .init("\(prefix).ecdsa_public_key", .works, "ES256/384/512"),
            .init("\(prefix).jwks_public_endpoint", .works, "keys by kid from a JWKS URL (RS*, ES*, EdDSA); the static keys are then not used (docs/jwks.md)"),
            .init("\(prefix).audience", .works),
            .init("\(prefix).audience_regex", .works),
            .init("\(prefix).issuer", .works),
            .init("\(prefix).issuer_regex", .works),
            .init("\(prefix).user_id_claim", .works, "claim holding the user id (sub)"),
        ]
    }

    static let channel: [ConfigKey] = [
        .init("channel.history_meta_ttl", .works, "default stream meta lifetime (720h)"),
        .init("channel.max_length", .works),
        .init("channel.private_prefix", .works),
        .init("channel.namespace_boundary", .works),
        .init("channel.user_boundary", .works),
        .init("channel.user_separator", .works),
        .init("channel.publication_data_format", .works, "default for namespaces"),
        .init("channel.without_namespace", .works, "the options below, for channels without a namespace"),
        .init("channel.namespaces", .works, "the options below, per namespace"),
        .init("channel.proxy.subscribe_stream", .inert("subscribe stream proxies are gRPC only, and namespaces may not enable them")),
    ] + proxy("channel.proxy.subscribe") + proxy("channel.proxy.publish") + proxy("channel.proxy.sub_refresh") + [
        .init("proxies", .works, "named proxies; every entry is checked at start, used or not"),
        .init("proxies[].name", .works, "^[-a-zA-Z0-9_.]{2,}$, unique, not default; namespaces name it in *_proxy_name"),
    ] + proxy("proxies[]") + [
        .init("rpc.ping.enabled", .works, "a built-in RPC method answering {}"),
        .init("rpc.ping.method", .works),
        .init("rpc.without_namespace.proxy_enabled", .works, "methods without a namespace go to a proxy (docs/proxy.md)"),
        .init("rpc.without_namespace.proxy_name", .works, "\"default\" (rpc.proxy) or a proxies[] name"),
        .init("rpc.namespaces[].name", .works),
        .init("rpc.namespaces[].proxy_enabled", .works, "the namespace's methods go to a proxy"),
        .init("rpc.namespaces[].proxy_name", .works, "\"default\" (rpc.proxy) or a proxies[] name"),
        .init("rpc.namespace_boundary", .works, "splits a method into namespace and name (\":\")"),
    ] + proxy("rpc.proxy")

    static let namespace: [ConfigKey] = [
        ("name", ConfigKey.Status.works, "the namespace (^[-a-zA-Z0-9_.]{2,}$)"),
        ("history_size", .works, ""), ("history_ttl", .works, ""), ("history_meta_ttl", .works, ""),
        ("force_positioning", .works, ""), ("allow_positioning", .works, ""), ("force_recovery", .works, ""),
        ("allow_recovery", .works, ""), ("force_recovery_mode", .works, "stream or cache"), ("auto_cache_recover", .works, ""),
        ("cache_key_tag", .works, "Strata's own: a tag naming each publication's key; the channel keeps the latest of every key (docs/keyed-cache.md)"),
        ("cache_key_limit", .works, "Strata's own: the most keys one keyed channel holds (default 10000)"),
        ("allowed_delta_types", .works, "fossil"), ("delta_publish", .works, ""), ("presence", .works, ""),
        ("join_leave", .works, ""), ("force_push_join_leave", .works, ""),
        ("allow_subscribe_for_client", .works, ""), ("allow_subscribe_for_anonymous", .works, ""),
        ("allow_publish_for_client", .works, ""), ("allow_publish_for_subscriber", .works, ""),
        ("allow_publish_for_anonymous", .works, ""), ("allow_history_for_client", .works, ""),
        ("allow_history_for_subscriber", .works, ""), ("allow_history_for_anonymous", .works, ""),
        ("allow_presence_for_client", .works, ""), ("allow_presence_for_subscriber", .works, ""),
        ("allow_presence_for_anonymous", .works, ""), ("allow_user_limited_channels", .works, ""),
        ("allow_tags_filter", .works, "clients may filter publications by tags (docs/protocol/client-protocol.md)"),
        ("channel_regex", .works, ""),
        ("publication_data_format", .works, "json, json_object or binary; b64data is decoded, then checked (error 107)"),
        ("subscription_type", .works, "stream only; map and shared_poll are refused"),
        ("subscribe_proxy_enabled", .works, "client subscribes are decided by the backend (docs/proxy.md)"),
        ("publish_proxy_enabled", .works, "client publications go through the backend"),
        ("sub_refresh_proxy_enabled", .works, "expiring subscriptions are refreshed by the backend"),
        ("subscribe_stream_proxy_enabled", .refusedWhenOn("subscribe stream proxies (gRPC streams from the backend) are not implemented"), ""),
        ("subscribe_proxy_name", .works, "default (channel.proxy.subscribe) or a proxies[] name"),
        ("publish_proxy_name", .works, "default (channel.proxy.publish) or a proxies[] name"),
        ("sub_refresh_proxy_name", .works, "default (channel.proxy.sub_refresh) or a proxies[] name"),
        ("subscribe_stream_proxy_name", .inert("used only by subscribe_stream_proxy_enabled, which is refused"), ""),
        ("subscribe_stream_proxy_bidirectional", .inert("used only by subscribe_stream_proxy_enabled, which is refused"), ""),
    ].map { ConfigKey(namespacePrefix + $0.0, $0.1, $0.2) }

    static let engine: [ConfigKey] = [
        .init("engine.type", .works, "lmdb (default), memory or redis"),
        .init("engine.lmdb.path", .works, "Strata: storage/README.md"),
        .init("engine.lmdb.durability", .works, "Strata: sync or relaxed"),
        .init("engine.lmdb.map_size", .works, "Strata"),
        .init("engine.lmdb.compress_min_size", .works, "Strata"),
        .init("engine.lmdb.compression_level", .works, "Strata"),
        .init("engine.lmdb.readahead", .works, "Strata"),
        .init("engine.idempotent_result_ttl", .works,
              "Strata: how long an idempotency_key answers with the first result (5m); kept with the stream, so it outlives a restart on LMDB and Redis"),
        .init("engine.redis.address", .works, "several = sharding by channel"),
        .init("engine.redis.prefix", .works),
        .init("engine.redis.connect_timeout", .works),
        .init("engine.redis.io_timeout", .works),
        .init("engine.redis.presence_ttl", .works),
        .init("engine.redis.probe_interval", .works,
              "Strata: an idle command or PUB/SUB connection PINGs this often (5s); a Redis that stops answering is noticed within two intervals"),
        .init("engine.redis.db", .works, "SELECT on every connection; an address URL's /db wins"),
        .init("engine.redis.user", .works, "ACL user for AUTH; an address URL's user wins"),
        .init("engine.redis.password", .works, "AUTH on every connection (PUB/SUB too); an address URL's password wins"),
        .init("engine.redis.tls.enabled", .works, "TLS on every connection to the Redis servers (swift-nio-ssl); rediss:// turns it on per address"),
        .init("engine.redis.tls.cert_pem", .works, "client certificate for a Redis that asks for one (tls-auth-clients); PEM text, a file path or base64 PEM"),
        .init("engine.redis.tls.key_pem", .works, "the client certificate's key"),
        .init("engine.redis.tls.server_ca_pem", .works, "roots to check Redis's certificate against instead of the system's"),
        .init("engine.redis.tls.insecure_skip_verify", .works, "Redis's certificate is not checked (tests only)"),
        .init("engine.redis.tls.server_name", .works, "the name Redis's certificate must carry (and SNI); default: the address's host"),
        .init("engine.redis.tls.client_ca_pem", .inert("a server-side setting; Strata is Redis's client")),
        .init("engine.redis.cluster_address", .works,
              "each entry one shard's Redis Cluster (seed host:port, comma-separated); keys hash-tagged {channel}, MOVED/ASK followed; address and sentinel_address are then not used"),
        .init("engine.redis.sentinel_address", .works,
              "each entry one shard's Sentinels (host:port, comma-separated); the master is asked of them and followed through failovers; address is then not used"),
        .init("engine.redis.sentinel_master_name", .works, "the master the Sentinels monitor; required with sentinel_address"),
        .init("engine.redis.sentinel_user", .works, "ACL user for AUTH on the Sentinel connections"),
        .init("engine.redis.sentinel_password", .works, "AUTH on the Sentinel connections (the master's are user/password)"),
        .init("engine.redis.sentinel_client_name", .inert("a label in Sentinel's CLIENT LIST; Strata's connections are unnamed")),
        .init("engine.redis.sentinel_tls.enabled", .works, "TLS to the Sentinels (the master's TLS is tls)"),
        .init("engine.redis.sentinel_tls.cert_pem", .works),
        .init("engine.redis.sentinel_tls.key_pem", .works),
        .init("engine.redis.sentinel_tls.server_ca_pem", .works),
        .init("engine.redis.sentinel_tls.insecure_skip_verify", .works),
        .init("engine.redis.sentinel_tls.server_name", .works),
        .init("engine.redis.sentinel_tls.client_ca_pem", .inert("a server-side setting; Strata is Sentinel's client")),
        .init("engine.redis.replica_client", .inert("read only when engine.redis.replica_client.enabled is on, which is refused")),
        .init("engine.redis.replica_client.enabled", .refusedWhenOn("reading from Redis replicas is not supported yet")),
        .init("engine.redis.client_name", .inert("a label in Redis's CLIENT LIST; Strata's connections are unnamed")),
        .init("engine.redis.force_resp2", .inert("Strata speaks RESP2 to Redis always")),
        .init("engine.redis.history_use_lists", .inert(
            "Strata keeps Redis history in streams always; clients see the same history, recovery and errors")),
        .init("engine.redis.presence_hash_field_ttl", .inert("a Redis-side storage choice; presence answers the same")),
        .init("engine.redis.presence_user_mapping", .inert("a Redis-side storage choice; presence answers the same")),
        .init("broker.enabled", .works),
        .init("broker.type", .works, "memory, redis or nats (postgres is refused)"),
        .init("broker.nats.url", .works, "nats://[user:password@|token@]host[:port], several separated by commas"),
        .init("broker.nats.prefix", .works, "subjects are <prefix>.client.<channel>, as Centrifugo's"),
        .init("broker.nats.dial_timeout", .works),
        .init("broker.nats.write_timeout", .works, "Strata: the deadline of each PING's PONG (the liveness probe)"),
        .init("broker.nats.tls.enabled", .works, "TLS to NATS (swift-nio-ssl), after the server's INFO as NATS does it; tls:// URLs turn it on"),
        .init("broker.nats.tls.cert_pem", .works, "client certificate, for a NATS with --tlsverify"),
        .init("broker.nats.tls.key_pem", .works),
        .init("broker.nats.tls.server_ca_pem", .works, "roots to check NATS's certificate against instead of the system's"),
        .init("broker.nats.tls.insecure_skip_verify", .works),
        .init("broker.nats.tls.server_name", .works),
        .init("broker.nats.tls.client_ca_pem", .inert("a server-side setting; Strata is NATS's client")),
        .init("broker.nats.allow_wildcards", .refusedWhenOn("wildcard channel subscriptions over NATS are not supported")),
        .init("broker.nats.raw_mode.enabled", .refusedWhenOn("NATS raw mode is not supported")),
        .init("broker.nats.raw_mode", .inert("read only when broker.nats.raw_mode.enabled is on, which is refused")),
        .init("broker.postgres", .inert("read only with broker.type postgres, which is refused")),
        .init("presence_manager.enabled", .works),
        .init("presence_manager.type", .works, "memory or redis"),
        .init("map_broker", .inert("map subscriptions are refused (subscription_type), so no map broker is used")),
        .init("controller", .inert("node control messages travel over the broker")),
        .init("shared_poll", .inert("shared_poll subscriptions are refused (subscription_type)")),
    ]

    static let api: [ConfigKey] = [
        .init("http_api.key", .works),
        .init("http_api.insecure", .works),
        .init("http_api.handler_prefix", .works),
        .init("http_api.disabled", .works),
        .init("http_api.error_mode", .works, "\"\" or transport"),
        .init("http_api.external", .inert("matters only with http_server.internal_port, which is refused")),
        .init("grpc_api.enabled", .works, "the server API over gRPC on its own port (docs/grpc-api.md)"),
        .init("grpc_api.address", .works, "all interfaces when empty"),
        .init("grpc_api.port", .works, "10000"),
        .init("grpc_api.key", .works, "metadata authorization: apikey <key>; none asked for when empty"),
        .init("grpc_api.error_mode", .works, "\"\" (errors in the response) or transport (gRPC statuses)"),
        .init("grpc_api.max_receive_message_size", .works, "bytes; 0: 4 MiB"),
        .init("grpc_api.reflection", .refusedWhenOn("gRPC reflection is not served: give clients api.proto (docs/protocol/proto/api.proto)")),
        .init("grpc_api.tls", .inert("read only when grpc_api.tls.enabled is on, which is refused")),
        .init("grpc_api.tls.enabled", .refusedWhenOn(
            "TLS on the gRPC API is not implemented yet: keep the port on a private network or put a TLS proxy in front")),
        .init("consumers", .works, "asynchronous consumers of API commands: the PostgreSQL outbox (docs/outbox.md)"),
        .init("consumers[].name", .works, "^[a-zA-Z0-9_]{2,}$, unique; names the partition locks"),
        .init("consumers[].enabled", .works),
        .init("consumers[].type", .works, "postgresql; the other types are refused when enabled (Kafka on paper: docs/outbox.md)"),
        .init("consumers[].postgresql.dsn", .works, "postgres:// URL or key=value pairs"),
        .init("consumers[].postgresql.outbox_table_name", .works, "id, method, payload, partition (docs/outbox.md)"),
        .init("consumers[].postgresql.num_partitions", .works, "1"),
        .init("consumers[].postgresql.partition_select_limit", .works, "rows per batch (100)"),
        .init("consumers[].postgresql.partition_poll_interval", .works, "300ms"),
        .init("consumers[].postgresql.partition_notification_channel", .works, "LISTEN channel; a notification with a partition number wakes it"),
        .init("consumers[].postgresql.partition_notification_dsn", .works, "a separate connection for LISTEN"),
        .init("consumers[].postgresql.use_try_lock", .works, "pg_try_advisory_xact_lock instead of waiting for a partition"),
        .init("consumers[].postgresql.tls", .inert("read only when consumers[].postgresql.tls.enabled is on, which is refused")),
        .init("consumers[].postgresql.tls.enabled", .refusedWhenOn(
            "TLS to PostgreSQL is not implemented yet: reach it over a private network or a local TLS tunnel")),
        .init("consumers[].kafka", .inert("read only for a kafka consumer, which is refused when enabled")),
        .init("consumers[].nats_jetstream", .inert("read only for a nats_jetstream consumer, which is refused when enabled")),
        .init("consumers[].redis_stream", .inert("read only for a redis_stream consumer, which is refused when enabled")),
        .init("consumers[].google_pub_sub", .inert("read only for a google_pub_sub consumer, which is refused when enabled")),
        .init("consumers[].aws_sqs", .inert("read only for an aws_sqs consumer, which is refused when enabled")),
        .init("consumers[].azure_service_bus", .inert("read only for an azure_service_bus consumer, which is refused when enabled")),
    ]

    static let transports: [ConfigKey] = [
        .init("websocket.disabled", .works),
        .init("websocket.handler_prefix", .works),
        .init("websocket.message_size_limit", .works),
        .init("websocket.write_timeout", .works, "a client that takes no data for this long is disconnected"),
        .init("websocket.compression", .works, "permessage-deflate"),
        .init("websocket.compression_min_size", .works),
        .init("websocket.compression_level", .works),
        .init("websocket.decompressed_message_size_limit", .works),
        .init("websocket.read_buffer_size", .inert(goBuffers)),
        .init("websocket.write_buffer_size", .inert(goBuffers)),
        .init("websocket.use_write_buffer_pool", .inert(goBuffers)),
    ] + ["http_stream", "sse", "uni_sse", "uni_http_stream"].flatMap { section in
        [
            ConfigKey("\(section).enabled", .works),
            ConfigKey("\(section).handler_prefix", .works),
            ConfigKey("\(section).max_request_body_size", .works),
        ]
    } + ["uni_sse", "uni_http_stream"].flatMap { section in
        [
            ConfigKey("\(section).connect_code_to_http_response.enabled", .works, "docs/transports.md"),
            ConfigKey("\(section).connect_code_to_http_response.transforms", .works, "code, to.status_code, to.body"),
        ]
    } + [
        .init("emulation.handler_prefix", .works, "served when http_stream or sse is on"),
        .init("emulation.max_request_body_size", .works),
        .init("uni_websocket.enabled", .works),
        .init("uni_websocket.handler_prefix", .works),
        .init("uni_websocket.message_size_limit", .works),
        .init("uni_websocket.write_timeout", .works, "as websocket.write_timeout"),
        .init("uni_websocket.join_push_messages", .works),
        .init("uni_websocket.disable_disconnect_push", .works),
        .init("uni_websocket.disable_closing_handshake", .works),
        .init("uni_websocket.compression", .works),
        .init("uni_websocket.compression_min_size", .works),
        .init("uni_websocket.compression_level", .works),
        .init("uni_websocket.decompressed_message_size_limit", .works),
        .init("uni_websocket.read_buffer_size", .inert(goBuffers)),
        .init("uni_websocket.write_buffer_size", .inert(goBuffers)),
        .init("uni_websocket.use_write_buffer_pool", .inert(goBuffers)),
        .init("uni_grpc.enabled", .works, "one-way gRPC streams of Protobuf pushes on their own port (docs/transports.md)"),
        .init("uni_grpc.address", .works, "all interfaces when empty"),
        .init("uni_grpc.port", .works, "11000"),
        .init("uni_grpc.max_receive_message_size", .works, "bytes; 0: 4 MiB"),
        .init("uni_grpc.tls", .inert("read only when uni_grpc.tls.enabled is on, which is refused")),
        .init("uni_grpc.tls.enabled", .refusedWhenOn(
            "TLS on uni_grpc is not implemented yet: keep the port on a private network or put a TLS proxy in front")),
        .init("webtransport", .inert("read only when webtransport.enabled is on, which is refused")),
        .init("webtransport.enabled", .refusedWhenOn("WebTransport is not implemented")),
        .init("init", .inert("read only when init.enabled is on, which is refused")),
        .init("init.enabled", .refusedWhenOn("the /connection/init endpoint is not implemented")),
    ]

    static let operations: [ConfigKey] = [
        .init("health.enabled", .works),
        .init("health.handler_prefix", .works),
        .init("prometheus.enabled", .works),
        .init("prometheus.handler_prefix", .works),
        .init("prometheus.instrument_http_handlers", .refusedWhenOn("HTTP handler metrics are not implemented yet")),
        .init("prometheus.recovered_publications_histogram", .works, "adds centrifugo_client_recovered_publications"),
        .init("prometheus.native_histograms", .refusedWhenOn("native histograms are not implemented yet")),
        .init("admin.enabled", .works, "the admin web UI and its endpoints (docs/admin.md)"),
        .init("admin.password", .works, "the admin login password"),
        .init("admin.secret", .works, "the key that signs admin session tokens (30 days)"),
        .init("admin.insecure", .works, "development: no admin login at all"),
        .init("admin.handler_prefix", .works, "URL prefix of the admin UI and endpoints"),
        .init("admin.web_path", .works, "serve the UI's files from this directory instead of the embedded ones"),
        .init("admin.web_proxy_address", .refusedWhenOn("proxying the UI for its development is not implemented: use admin.web_path")),
        .init("admin.external", .works, "Strata serves everything on one port: the admin UI is on it either way"),
        .init("swagger", .inert("read only when swagger.enabled is on, which is refused")),
        .init("swagger.enabled", .refusedWhenOn("the Swagger UI is not implemented")),
        .init("debug", .inert("read only when debug.enabled is on, which is refused")),
        .init("debug.enabled", .refusedWhenOn("Go's pprof endpoints do not exist in Strata; profile with perf")),
        .init("graphite", .inert("read only when graphite.enabled is on, which is refused")),
        .init("graphite.enabled", .refusedWhenOn("Graphite export is not implemented: scrape the Prometheus endpoint")),
        .init("opentelemetry", .inert("read only when opentelemetry.enabled is on, which is refused")),
        .init("opentelemetry.enabled", .refusedWhenOn("OpenTelemetry tracing is not implemented yet")),
        .init("usage_stats", .inert("Strata sends no usage statistics anywhere")),
        .init("push_notifications", .inert("a Centrifugo PRO feature")),
    ]

    /// Keys read by the loader itself (`works`); the others are read here.
    package static var notActedOn: [ConfigKey] { all.filter { $0.status != .works } }

    private static let paths = Set(all.map(\.path))

    /// Whether `path` is one of the keys listed here.
    package static func isKnown(_ path: String) -> Bool { paths.contains(path) }

    /// The table of `docs/configuration-keys.md` (`strata configdoc`).
    package static func markdown() -> String {
        var out = """
            # Configuration keys

            Generated by `strata configdoc` from `Sources/StrataConfig/ConfigKeys.swift`; a test keeps
            this file equal to its output. Every key Centrifugo v6.9.1 has, and what Strata does with it:
            **works**; **refused when on** — Strata does not do it yet, so a config that turns it on
            (true, a non-empty string or list, a non-zero number) does not start, with an error naming the
            key (`strata checkconfig` says the same) — unless it lies in a section whose own
            `enabled` is off (`uni_grpc.tls.enabled` while `uni_grpc.enabled` is not on), which
            Centrifugo never reads either; or **ignored** — it cannot change what Strata does, for
            the reason given. A section marked ignored covers every key below it.

            Keys under `channel.namespaces[].` are namespace options; `channel.without_namespace.` takes
            them too (but `name`). Keys under `engine.redis.` are also `broker.redis.` and
            `presence_manager.redis.` keys. Keys that are not in this table are unknown: a start warns
            about each, and `strata checkconfig --strict` fails on them.

            | key | Strata | |
            |---|---|---|

            """
        for key in all {
            let cell: String
            var note = key.note
            switch key.status {
            case .works: cell = "works"
            case .refusedWhenOn(let why):
                cell = "refused when on"
                note = why
            case .inert(let why):
                cell = "ignored"
                note = why
            }
            out += "| `\(key.path)` | \(cell) | \(note.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return out
    }
}
