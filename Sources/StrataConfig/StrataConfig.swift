/// The whole server configuration, with Centrifugo v6 defaults (config.md).
package struct StrataConfig: Sendable {
    package var httpServer = HTTPServer()
    package var log = Log()
    package var client = Client()
    package var channel = Channel()
    package var rpc = RPC()
    package var engine = Engine()
    package var broker = SeparateRedis()
    package var presenceManager = SeparateRedis()
    package var httpAPI = HTTPAPI()
    /// `grpc_api.*`: the server API over gRPC.
    package var grpcAPI = GRPCAPI()
    package var websocket = WebSocket()
    /// `http_stream.*`, `sse.*`: the emulated bidirectional transports (either enables `/emulation`).
    package var httpStream = StreamEndpoint(handlerPrefix: "/connection/http_stream")
    package var sse = StreamEndpoint(handlerPrefix: "/connection/sse")
    /// `emulation.*`: where emulated connections send their commands (no `enabled` key).
    package var emulation = StreamEndpoint(enabled: true, handlerPrefix: "/emulation")
    /// `uni_sse.*`, `uni_http_stream.*`: the one-way HTTP transports.
    package var uniSSE = StreamEndpoint(handlerPrefix: "/connection/uni_sse")
    package var uniHTTPStream = StreamEndpoint(handlerPrefix: "/connection/uni_http_stream")
    package var uniWebSocket = UniWebSocket()
    /// `uni_grpc.*`: one-way streams of pushes over gRPC, on their own port.
    package var uniGRPC = UniGRPC()
    package var health = Endpoint(enabled: false, handlerPrefix: "/health")
    package var prometheus = Endpoint(enabled: false, handlerPrefix: "/metrics")
    /// `prometheus.recovered_publications_histogram`: count how many publications each
    /// successful recovery sent (off by default, as in Centrifugo).
    package var recoveredPublicationsHistogram = false
    package var admin = Admin()
    package var node = Node()
    /// The proxies channel and RPC namespaces use (`channel.proxy.*`, `rpc.proxy`, `proxies[]`).
    package var proxies = ProxySet()
    /// The enabled `consumers[]` (only PostgreSQL outboxes).
    package var consumers: [Consumer] = []
    /// `pid_file`: where to write the process id at start (removed at a clean exit); "" = nowhere.
    package var pidFile = ""
    /// `shutdown.timeout` (ms): after SIGTERM/SIGINT the process is gone within this; exit
    /// status 1 if the graceful shutdown had to be cut short (Centrifugo's default, 30 s).
    package var shutdownTimeoutMillis: Int64 = 30_000
    /// Keys in the file Strata does not know (warned about at start; `checkconfig` reports them).
    package var unknownKeys: [String] = []

    package init() {}

    package struct HTTPServer: Sendable {
        package var address = ""
        package var port = 8000
        package var tls = TLS()
        package var tlsAutocert = TLSAutocert()
    }

    /// `http_server.tls_autocert`: certificates from an ACME CA (Let's Encrypt by default) with
    /// the HTTP-01 challenge answered on `httpHost:httpPort` (docs/tls.md).
    package struct TLSAutocert: Sendable {
        package var enabled = false
        /// The host names to have certificates for (`host_whitelist`, or `server_name` alone).
        package var hosts: [String] = []
        /// The host a handshake without SNI gets (`server_name`; else the first host).
        package var serverName = ""
        package var cacheDir = ""
        package var email = ""
        /// `http_addr` split: the challenge listener's address (all interfaces when empty).
        package var httpHost = ""
        package var httpPort = 80
        /// Strata's own: the CA's ACME directory, the PEM roots to trust for it instead of the
        /// system's, and how long before expiry to renew.
        package var directoryURL = TLSAutocert.letsEncrypt
        package var directoryCAPEM = ""
        package var renewBeforeMillis: Int64 = 720 * 3_600_000

        package static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    }

    /// `http_server.tls`: TLS on the server's one port (WebSocket, HTTP streams, the API, /health,
    /// /metrics). The PEM fields hold the PEM text itself, however the config gave it (`PEMSource`).
    package struct TLS: Sendable {
        package var enabled = false
        package var certPEM = ""
        package var keyPEM = ""
        /// Set: clients must present a certificate signed by one of these (mutual TLS).
        package var clientCAPEM = ""
    }

    /// A TLS section seen from the client side (Centrifugo's TLSConfig on a connection Strata
    /// makes: Redis, for now). The PEM fields hold the PEM text itself (`PEMSource`).
    package struct ClientTLS: Sendable, Hashable {
        package var enabled = false
        /// Strata's own certificate and key, for a server that asks for one (mutual TLS).
        package var certPEM = ""
        package var keyPEM = ""
        /// The roots to check the server's certificate against; empty: the system's.
        package var serverCAPEM = ""
        package var insecureSkipVerify = false
        /// The name the server's certificate must carry (and SNI); empty: the address's host.
        package var serverName = ""

        package init(enabled: Bool = false) { self.enabled = enabled }
    }

    package struct Log: Sendable {
        package var level = "info"
        package var file = ""
    }

    package struct Token: Sendable {
        package var hmacSecretKey = ""
        package var hmacPreviousSecretKey = ""
        package var hmacPreviousSecretKeyValidUntil: Int64 = 0
        package var rsaPublicKey = ""
        package var ecdsaPublicKey = ""
        /// Set: keys come from this JWKS document by the token's `kid` (RSA, EC, Ed25519), and
        /// the static keys above are not used (docs/jwks.md).
        package var jwksPublicEndpoint = ""
        package var audience = ""
        package var audienceRegex = ""
        package var issuer = ""
        package var issuerRegex = ""
        package var userIDClaim = ""
    }

    /// A proxy to the application backend over HTTP (docs/proxy.md).
    package struct Proxy: Sendable {
        /// `default` for the objects under `client.proxy`, `channel.proxy` and `rpc.proxy`;
        /// a `proxies[]` entry's own name (the `name` label of the proxy metrics).
        package var name = "default"
        package var endpoint = ""
        /// The whole call, answer read included (Centrifugo's default: 1 s).
        package var timeoutMillis: Int64 = 1000
        /// Headers of the request that opened the connection to forward, lower-cased.
        package var httpHeaders: [String] = []
        /// Added to every request (the forwarded ones win).
        package var staticHeaders: [HeaderField] = []
        /// Names of the connect command's `headers` to forward (client-controlled), lower-cased.
        package var emulatedHeaders: [String] = []
        /// Payloads as base64 `b64data` with `"encoding":"binary"`.
        package var binaryEncoding = false
        /// Adds the connection's `meta` (from its token or the connect proxy) to every request
        /// but connect's.
        package var includeConnectionMeta = false
        /// Non-200 statuses turned into an answer, first match wins.
        package var statusTransforms: [ProxyStatusTransform] = []
        /// Incoming gRPC metadata keys of uni_grpc connections to forward, matched as written.
        package var grpcMetadata: [String] = []
        /// `grpc.*`: how a gRPC endpoint is called.
        package var grpc = GRPCProxyOptions()

        package init() {}

        /// An endpoint that is not an http:// or https:// URL is a gRPC one (`grpc://host:port`
        /// or a bare `host:port`), as in Centrifugo.
        package var isGRPC: Bool { !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) }

        /// A gRPC endpoint's host and port; nil when it names neither.
        package var grpcTarget: (host: String, port: Int)? {
            var rest = Substring(endpoint)
            if rest.hasPrefix("grpc://") { rest = rest.dropFirst("grpc://".count) }
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
            else { return nil }
            var host = rest[..<colon]
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { return nil }
            return (String(host), port)
        }
    }

    /// A gRPC proxy's `grpc` object (plaintext: `grpc.tls` is refused).
    package struct GRPCProxyOptions: Sendable, Equatable {
        /// gzip on requests (`grpc.compression`).
        package var compression = false
        /// A metadata pair added to every call (`grpc.credentials_key` / `_value`).
        package var credentialsKey = ""
        package var credentialsValue = ""
        /// `grpc.static_metadata`: added to every call (the forwarded ones win).
        package var staticMetadata: [HeaderField] = []

        package init() {}
    }

    package struct HeaderField: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `http.status_to_code_transforms[]`: a backend status made into an error or a disconnect.
    package struct ProxyStatusTransform: Sendable, Equatable {
        package enum Outcome: Sendable, Equatable {
            case error(code: UInt32, message: String, temporary: Bool)
            case disconnect(code: UInt32, reason: String)
        }
        package var statusCode: Int
        package var outcome: Outcome

        package init(statusCode: Int, outcome: Outcome) {
            self.statusCode = statusCode
            self.outcome = outcome
        }
    }

    package struct Client: Sendable {
        /// `client.proxy.connect` when enabled: a connect without a token asks the backend.
        package var connectProxy: Proxy?
        /// `client.proxy.refresh` when enabled: expiring connections are refreshed by the backend.
        package var refreshProxy: Proxy?
        package var token = Token()
        /// When enabled, subscription tokens are checked with these keys instead of `token`.
        package var subscriptionTokenEnabled = false
        package var subscriptionToken = Token()
        package var allowedOrigins: [String] = []
        package var allowAnonymousConnectWithoutToken = false
        package var disallowAnonymousConnectionTokens = false
        package var insecure = false
        package var insecureSkipTokenSignatureVerify = false
        package var pingIntervalMillis: Int64 = 25_000
        package var pongTimeoutMillis: Int64 = 8_000
        package var expiredCloseDelayMillis: Int64 = 25_000
        package var expiredSubCloseDelayMillis: Int64 = 25_000
        package var staleCloseDelayMillis: Int64 = 10_000
        package var channelLimit = 128
        package var queueMaxSize = 1_048_576
        package var presenceUpdateIntervalMillis: Int64 = 27_000
        package var channelPositionCheckDelayMillis: Int64 = 40_000
        package var connectionLimit = 0
        /// `client.connection_rate_limit`: new connections per second per node; 0 = no limit.
        package var connectionRateLimit = 0
        /// `client.connection_rate_limit_per_ip` (Strata): new connections per second from one
        /// address (an IPv6 /64); 0 = no limit.
        package var connectionRateLimitPerIP = 0
        /// `client.command_rate_limit` (Strata): commands per second per connection; 0 = no limit.
        package var commandRateLimit = 0
        package var userConnectionLimit = 0
        package var connectIncludeServerTime = false
        /// `connect_code_to_unidirectional_disconnect`: error codes of a one-way connect turned
        /// into these disconnects (before the default mapping); nil when not enabled.
        package var connectCodeToUnidirectionalDisconnect: [DisconnectTransform]?
        package var historyMaxPublicationLimit = 300
        package var recoveryMaxPublicationLimit = 300
        /// Strata extension (0 = off): recover gaps up to this many publications by sending what
        /// exceeds `recovery_max_publication_limit` as ordinary pushes right after the reply.
        package var recoveryStreamMaxPublicationLimit = 0
    }

    /// `uni_grpc`: Centrifugo's `CentrifugoUniStream` service on its own HTTP/2 listener.
    package struct UniGRPC: Sendable {
        package var enabled = false
        /// All interfaces when empty.
        package var address = ""
        package var port = 11000
        /// The largest request accepted (gRPC's default, 4 MiB, for 0).
        package var maxReceiveMessageSize = 4 * 1024 * 1024
    }

    package struct Channel: Sendable {
        package var withoutNamespace = ChannelOptions()
        package var namespaces: [ChannelOptions] = []
        package var historyMetaTTLSeconds: Int64 = 720 * 3600
        package var maxLength = 255
        package var privatePrefix = "$"
        package var namespaceBoundary = ":"
        package var userBoundary = "#"
        package var userSeparator = ","
    }

    package struct RPC: Sendable {
        package var pingEnabled = false
        package var pingMethod = "ping"
        /// The proxy methods without a namespace go to (`rpc.without_namespace.proxy_enabled`
        /// and `proxy_name`); nil: not proxied. Resolved in `StrataConfig.proxies`.
        package var withoutNamespaceProxy: String?
        /// `rpc.namespaces[]`: every name listed, with the proxy its methods go to (nil: none).
        package var namespaces: [String: RPCNamespace] = [:]
        /// Splits a method into namespace and the rest (`rpc.namespace_boundary`, ":").
        package var namespaceBoundary = ":"
    }

    package struct RPCNamespace: Sendable, Equatable {
        package var proxy: String?

        package init(proxy: String? = nil) {
            self.proxy = proxy
        }
    }

    package struct GRPCAPI: Sendable {
        package var enabled = false
        package var address = ""
        package var port = 10000
        /// Empty: calls need no key.
        package var key = ""
        /// "" or "transport".
        package var errorMode = ""
        /// The largest request accepted (gRPC's default, 4 MiB, for 0).
        package var maxReceiveMessageSize = 4 << 20
    }

    package struct Engine: Sendable {
        /// `lmdb` (durable, embedded; the default), `memory` (Centrifugo's memory engine) or `redis`.
        package var type = "lmdb"
        package var lmdb = LMDB()
        package var redis = Redis()
        /// `engine.idempotent_result_ttl` (Strata): how long a publish's `idempotency_key` keeps
        /// answering with the first result. Kept with the stream, so on LMDB and Redis it outlives
        /// a restart of Strata; 5 minutes, as Centrifugo's.
        package var idempotentResultTTLSeconds: Int64 = 300
    }

    /// `engine.redis.*`, `broker.redis.*`, `presence_manager.redis.*` (Centrifugo's names).
    package struct Redis: Sendable, Hashable {
        /// Several addresses shard channels between the servers (consistent hashing by channel).
        package var address = ["redis://127.0.0.1:6379"]
        package var prefix = "centrifugo"
        package var connectTimeoutMillis: Int64 = 1000
        package var ioTimeoutMillis: Int64 = 4000
        /// How long a presence entry lives unless its node refreshes it.
        package var presenceTTLMillis: Int64 = 60_000
        /// Strata's own: how often an idle connection to Redis PINGs, so a server that stops
        /// answering is noticed within two intervals.
        package var probeIntervalMillis: Int64 = 5000
        /// `address`, parsed.
        package var endpoints: [Endpoint] = [Endpoint(host: "127.0.0.1", port: 6379)]

        /// `user`, `password`, `db`: for every address that does not give its own.
        package var user = ""
        package var password = ""
        package var db = 0
        /// `tls`: for every address; `rediss://` turns it on for one address with the section's
        /// settings (or the system's roots when the section has none).
        package var tls = ClientTLS()
        /// `sentinel_address`, parsed: each shard's Sentinels. Set: the shards' masters are asked
        /// of them, and `endpoints` holds one placeholder per shard (credentials, db, TLS).
        package var sentinels: [[Address]] = []
        package var sentinelMasterName = ""
        /// `cluster_address`, parsed: each shard's Redis Cluster, by its seed nodes. Set: commands
        /// follow each cluster's slot map, and `endpoints` holds one placeholder per cluster.
        package var clusters: [[Address]] = []
        package var sentinelUser = ""
        package var sentinelPassword = ""
        package var sentinelTLS = ClientTLS()

        package struct Address: Sendable, Hashable {
            package var host: String
            package var port: Int

            package init(host: String, port: Int) {
                self.host = host
                self.port = port
            }
        }

        package struct Endpoint: Sendable, Hashable {
            package var host: String
            package var port: Int
            /// From the section's keys, replaced by the address URL's (`redis://user:pass@host/db`).
            package var user = ""
            package var password = ""
            package var db = 0
            package var tls = ClientTLS()

            package init(host: String, port: Int, user: String = "", password: String = "", db: Int = 0, tls: ClientTLS = ClientTLS()) {
                self.host = host
                self.port = port
                self.user = user
                self.password = password
                self.db = db
                self.tls = tls
            }
        }
    }

    /// `broker.*` / `presence_manager.*`: a separate Redis for that part, overriding the engine
    /// (or for the broker, NATS).
    package struct SeparateRedis: Sendable {
        package var enabled = false
        package var type = "memory"
        package var redis = Redis()
        /// `broker.nats.*` (the broker only).
        package var nats = NATS()
    }

    /// `broker.nats.*` (Centrifugo's names; docs/nats.md).
    package struct NATS: Sendable {
        package var url = "nats://127.0.0.1:4222"
        package var prefix = "centrifugo"
        package var dialTimeoutMillis: Int64 = 1000
        package var writeTimeoutMillis: Int64 = 1000
        /// `tls`; a `tls://` URL turns it on with these settings.
        package var tls = ClientTLS()
        /// `url`, parsed (when the NATS broker is on).
        package var servers: [Server] = []

        package struct Server: Sendable, Hashable {
            package var host: String
            package var port: Int
            package var user = ""
            package var password = ""
            package var token = ""

            package init(host: String, port: Int) {
                self.host = host
                self.port = port
            }
        }
    }

    /// `engine.lmdb.*`: where and how the embedded store keeps channel streams.
    package struct LMDB: Sendable {
        /// Directory of the LMDB environment (created if missing).
        package var path = "storage/data"
        /// `sync`: every acknowledged publish is fsynced (group commit); `relaxed`: the OS flushes.
        package var durability = Durability.sync
        /// Initial map size in bytes; the map grows automatically when full.
        package var mapSize = 256 * 1024 * 1024
        /// Payloads of at least this many bytes are stored zstd-compressed (0 disables compression).
        package var compressMinSize = 512
        package var compressionLevel = 3
        /// OS readahead on the data file; false for stores much larger than memory.
        package var readahead = true

        package enum Durability: String, Sendable {
            case sync
            case relaxed
        }
    }

    package struct HTTPAPI: Sendable {
        package var key = ""
        package var insecure = false
        package var handlerPrefix = "/api"
        package var disabled = false
        package var errorMode = ""
    }

    package struct WebSocket: Sendable {
        package var disabled = false
        package var handlerPrefix = "/connection/websocket"
        package var messageSizeLimit = 65536
        package var writeTimeoutMillis: Int64 = 1000
        /// permessage-deflate: `compression`, `compression_min_size`, `compression_level`,
        /// `decompressed_message_size_limit` (0: 10 × `message_size_limit`).
        package var compression = false
        package var compressionMinSize = 0
        package var compressionLevel = 1
        package var decompressedMessageSizeLimit = 0
    }

    /// `uni_websocket.*`.
    package struct UniWebSocket: Sendable {
        package var enabled = false
        package var handlerPrefix = "/connection/uni_websocket"
        package var messageSizeLimit = 65536
        package var writeTimeoutMillis: Int64 = 1000
        /// permessage-deflate, as for `websocket`.
        package var compression = false
        package var compressionMinSize = 0
        package var compressionLevel = 1
        package var decompressedMessageSizeLimit = 0
        package var joinPushMessages = false
        package var disableDisconnectPush = false
        package var disableClosingHandshake = false
    }

    /// An HTTP connection endpoint: whether it is served, its path, the largest request body.
    package struct StreamEndpoint: Sendable {
        package var enabled = false
        package var handlerPrefix: String
        package var maxRequestBodySize = 65536
        /// `connect_code_to_http_response` (uni_sse, uni_http_stream): a refused connect is an
        /// HTTP response instead of a stream; nil when not enabled.
        package var connectCodeToHTTPResponse: [HTTPResponseTransform]?
    }

    /// `{code, to: {code, reason}}`.
    package struct DisconnectTransform: Sendable {
        package var code: Int
        package var toCode: Int
        package var reason: String
    }

    /// `{code, to: {status_code, body}}`.
    package struct HTTPResponseTransform: Sendable {
        package var code: Int
        package var statusCode: Int
        package var body: String
    }

    package struct Endpoint: Sendable {
        package var enabled: Bool
        package var handlerPrefix: String
    }

    /// `admin.*`: the embedded admin web UI (docs/admin.md).
    package struct Admin: Sendable {
        package var enabled = false
        package var password = ""
        package var secret = ""
        package var insecure = false
        /// Without a trailing slash ("" = the root).
        package var handlerPrefix = ""
        package var webPath = ""
    }

    package struct Node: Sendable {
        package var name = ""
        /// How often `info`'s `metrics` snapshot is taken (its counters are increases over it).
        package var infoMetricsAggregateIntervalMillis: Int64 = 60_000
    }
}
