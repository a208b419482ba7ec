/// The whole server configuration, with Centrifugo v6 defaults (config.md).
public struct StrataConfig: Sendable {
    public var httpServer = HTTPServer()
    public var log = Log()
    public var client = Client()
    public var channel = Channel()
    public var rpc = RPC()
    public var engine = Engine()
    public var broker = SeparateRedis()
    public var presenceManager = SeparateRedis()
    public var httpAPI = HTTPAPI()
    public var websocket = WebSocket()
    public var health = Endpoint(enabled: false, handlerPrefix: "/health")
    public var prometheus = Endpoint(enabled: false, handlerPrefix: "/metrics")
    public var node = Node()
    /// Keys in the file Strata does not know (warned about at start; `checkconfig` reports them).
    public var unknownKeys: [String] = []

    public init() {}

    public struct HTTPServer: Sendable {
        public var address = ""
        public var port = 8000
    }

    public struct Log: Sendable {
        public var level = "info"
        public var file = ""
    }

    public struct Token: Sendable {
        public var hmacSecretKey = ""
        public var hmacPreviousSecretKey = ""
        public var hmacPreviousSecretKeyValidUntil: Int64 = 0
        public var rsaPublicKey = ""
        public var ecdsaPublicKey = ""
        public var jwksPublicEndpoint = ""
        public var audience = ""
        public var audienceRegex = ""
        public var issuer = ""
        public var issuerRegex = ""
        public var userIDClaim = ""
    }

    public struct Client: Sendable {
        public var token = Token()
        /// When enabled, subscription tokens are checked with these keys instead of `token`.
        public var subscriptionTokenEnabled = false
        public var subscriptionToken = Token()
        public var allowedOrigins: [String] = []
        public var allowAnonymousConnectWithoutToken = false
        public var disallowAnonymousConnectionTokens = false
        public var insecure = false
        public var insecureSkipTokenSignatureVerify = false
        public var pingIntervalMillis: Int64 = 25_000
        public var pongTimeoutMillis: Int64 = 8_000
        public var expiredCloseDelayMillis: Int64 = 25_000
        public var expiredSubCloseDelayMillis: Int64 = 25_000
        public var staleCloseDelayMillis: Int64 = 10_000
        public var channelLimit = 128
        public var queueMaxSize = 1_048_576
        public var presenceUpdateIntervalMillis: Int64 = 27_000
        public var channelPositionCheckDelayMillis: Int64 = 40_000
        public var connectionLimit = 0
        public var userConnectionLimit = 0
        public var connectIncludeServerTime = false
        public var historyMaxPublicationLimit = 300
        public var recoveryMaxPublicationLimit = 300
        /// Strata extension (0 = off): recover gaps up to this many publications by sending what
        /// exceeds `recovery_max_publication_limit` as ordinary pushes right after the reply.
        public var recoveryStreamMaxPublicationLimit = 0
    }

    public struct Channel: Sendable {
        public var withoutNamespace = ChannelOptions()
        public var namespaces: [ChannelOptions] = []
        public var historyMetaTTLSeconds: Int64 = 720 * 3600
        public var maxLength = 255
        public var privatePrefix = "$"
        public var namespaceBoundary = ":"
        public var userBoundary = "#"
        public var userSeparator = ","
    }

    public struct RPC: Sendable {
        public var pingEnabled = false
        public var pingMethod = "ping"
    }

    public struct Engine: Sendable {
        /// `lmdb` (durable, embedded; the default), `memory` (Centrifugo's memory engine) or `redis`.
        public var type = "lmdb"
        public var lmdb = LMDB()
        public var redis = Redis()
    }

    /// `engine.redis.*`, `broker.redis.*`, `presence_manager.redis.*` (Centrifugo's names).
    public struct Redis: Sendable, Hashable {
        /// Several addresses shard channels between the servers (consistent hashing by channel).
        public var address = ["redis://127.0.0.1:6379"]
        public var prefix = "centrifugo"
        public var connectTimeoutMillis: Int64 = 1000
        public var ioTimeoutMillis: Int64 = 4000
        /// How long a presence entry lives unless its node refreshes it.
        public var presenceTTLMillis: Int64 = 60_000
        /// `address`, parsed.
        public var endpoints: [Endpoint] = [Endpoint(host: "127.0.0.1", port: 6379)]

        public struct Endpoint: Sendable, Hashable {
            public var host: String
            public var port: Int

            public init(host: String, port: Int) {
                self.host = host
                self.port = port
            }
        }
    }

    /// `broker.*` / `presence_manager.*`: a separate Redis for that part, overriding the engine.
    public struct SeparateRedis: Sendable {
        public var enabled = false
        public var type = "memory"
        public var redis = Redis()
    }

    /// `engine.lmdb.*`: where and how the embedded store keeps channel streams.
    public struct LMDB: Sendable {
        /// Directory of the LMDB environment (created if missing).
        public var path = "storage/data"
        /// `sync`: every acknowledged publish is fsynced (group commit); `relaxed`: the OS flushes.
        public var durability = Durability.sync
        /// Initial map size in bytes; the map grows automatically when full.
        public var mapSize = 256 * 1024 * 1024
        /// Payloads of at least this many bytes are stored zstd-compressed (0 disables compression).
        public var compressMinSize = 512
        public var compressionLevel = 3
        /// OS readahead on the data file; false for stores much larger than memory.
        public var readahead = true

        public enum Durability: String, Sendable {
            case sync
            case relaxed
        }
    }

    public struct HTTPAPI: Sendable {
        public var key = ""
        public var insecure = false
        public var handlerPrefix = "/api"
        public var disabled = false
        public var errorMode = ""
    }

    public struct WebSocket: Sendable {
        public var disabled = false
        public var handlerPrefix = "/connection/websocket"
        public var messageSizeLimit = 65536
        public var writeTimeoutMillis: Int64 = 1000
    }

    public struct Endpoint: Sendable {
        public var enabled: Bool
        public var handlerPrefix: String
    }

    public struct Node: Sendable {
        public var name = ""
    }
}
