import Testing
import StrataConfig

/// One configuration written three ways.
enum SameConfig {
    static let json = #"""
        {
          "http_server": {"port": 9000},
          "log": {"level": "debug"},
          "client": {
            "token": {"hmac_secret_key": "s3cret", "audience": "app"},
            "allowed_origins": ["http://a.example", "https://*.b.example"],
            "ping_interval": "20s",
            "pong_timeout": "5s",
            "recovery_max_publication_limit": 100,
            "insecure": false
          },
          "channel": {
            "history_meta_ttl": "48h",
            "without_namespace": {"presence": true, "allow_subscribe_for_client": true},
            "namespaces": [
              {"name": "chat", "history_size": 100, "history_ttl": "300s", "force_recovery": true,
               "allow_subscribe_for_client": true, "allow_history_for_subscriber": true,
               "allowed_delta_types": ["fossil"], "delta_publish": true, "force_positioning": true},
              {"name": "price", "history_size": 1, "history_ttl": "1h", "history_meta_ttl": "2h",
               "force_recovery": true, "force_recovery_mode": "cache", "auto_cache_recover": true,
               "publication_data_format": "json_object"}
            ]
          }
        }
        """#

    static let yaml = """
        http_server:
          port: 9000
        log:
          level: debug
        client:
          token:
            hmac_secret_key: s3cret
            audience: app
          allowed_origins:
            - http://a.example
            - "https://*.b.example"
          ping_interval: 20s
          pong_timeout: 5s
          recovery_max_publication_limit: 100
          insecure: false
        channel:
          history_meta_ttl: 48h
          without_namespace:
            presence: true
            allow_subscribe_for_client: true
          namespaces:
            - name: chat
              history_size: 100
              history_ttl: 300s
              force_recovery: true
              allow_subscribe_for_client: true
              allow_history_for_subscriber: true
              allowed_delta_types: [fossil]
              delta_publish: true
              force_positioning: true
            - name: price
              history_size: 1
              history_ttl: 1h
              history_meta_ttl: 2h
              force_recovery: true
              force_recovery_mode: cache
              auto_cache_recover: true
              publication_data_format: json_object
        """

    static let toml = """
        [http_server]
        port = 9000

        [log]
        level = "debug"

        [client]
        allowed_origins = ["http://a.example", "https://*.b.example"]
        ping_interval = "20s"
        pong_timeout = "5s"
        recovery_max_publication_limit = 100
        insecure = false

        [client.token]
        hmac_secret_key = "s3cret"
        audience = "app"

        [channel]
        history_meta_ttl = "48h"

        [channel.without_namespace]
        presence = true
        allow_subscribe_for_client = true

        [[channel.namespaces]]
        name = "chat"
        history_size = 100
        history_ttl = "300s"
        force_recovery = true
        allow_subscribe_for_client = true
        allow_history_for_subscriber = true
        allowed_delta_types = ["fossil"]
        delta_publish = true
        force_positioning = true

        [[channel.namespaces]]
        name = "price"
        history_size = 1
        history_ttl = "1h"
        history_meta_ttl = "2h"
        force_recovery = true
        force_recovery_mode = "cache"
        auto_cache_recover = true
        publication_data_format = "json_object"
        """
}

@Suite("Config file formats")
struct ConfigFormatsTests {
    /// Checks everything SameConfig sets.
    private func checkSameConfig(_ c: StrataConfig, _ label: String) throws {
        #expect(c.httpServer.port == 9000, "\(label)")
        #expect(c.log.level == "debug", "\(label)")
        #expect(c.client.token.hmacSecretKey == "s3cret", "\(label)")
        #expect(c.client.token.audience == "app", "\(label)")
        #expect(c.client.allowedOrigins == ["http://a.example", "https://*.b.example"], "\(label)")
        #expect(c.client.pingIntervalMillis == 20_000, "\(label)")
        #expect(c.client.pongTimeoutMillis == 5_000, "\(label)")
        #expect(c.client.recoveryMaxPublicationLimit == 100, "\(label)")
        #expect(c.channel.historyMetaTTLSeconds == 48 * 3600, "\(label)")
        #expect(c.channel.withoutNamespace.presence, "\(label)")
        #expect(c.channel.withoutNamespace.allowSubscribeForClient, "\(label)")
        #expect(!c.channel.withoutNamespace.keepsHistory, "\(label)")
        #expect(c.channel.namespaces.map(\.name) == ["chat", "price"], "\(label)")

        let chat = try #require(c.namespace("chat"))
        #expect(chat.historySize == 100, "\(label)")
        #expect(chat.historyTTLSeconds == 300, "\(label)")
        #expect(chat.historyMetaTTLSeconds == 0, "\(label)")
        #expect(chat.forceRecovery, "\(label)")
        #expect(chat.forcePositioning, "\(label)")
        #expect(chat.forceRecoveryMode == .stream, "\(label)")
        #expect(chat.allowSubscribeForClient && chat.allowHistoryForSubscriber, "\(label)")
        #expect(chat.allowedDeltaTypes == ["fossil"], "\(label)")
        #expect(chat.deltaPublish, "\(label)")
        #expect(!chat.autoCacheRecover, "\(label)")

        let price = try #require(c.namespace("price"))
        #expect(price.historySize == 1, "\(label)")
        #expect(price.historyTTLSeconds == 3600, "\(label)")
        #expect(price.historyMetaTTLSeconds == 7200, "\(label)")
        #expect(price.forceRecoveryMode == .cache, "\(label)")
        #expect(price.autoCacheRecover, "\(label)")
        #expect(price.publicationDataFormat == .jsonObject, "\(label)")
        #expect(c.unknownKeys.isEmpty, "\(label): \(c.unknownKeys)")
    }

    @Test func jsonYamlAndTomlGiveTheSameConfig() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let fromJSON = try ConfigLoader.load(path: try dir.write("config.json", SameConfig.json), environment: [:])
        let fromYAML = try ConfigLoader.load(path: try dir.write("config.yaml", SameConfig.yaml), environment: [:])
        let fromYML = try ConfigLoader.load(path: try dir.write("config.yml", SameConfig.yaml), environment: [:])
        let fromTOML = try ConfigLoader.load(path: try dir.write("config.toml", SameConfig.toml), environment: [:])
        try checkSameConfig(fromJSON, "json")
        try checkSameConfig(fromYAML, "yaml")
        try checkSameConfig(fromYML, "yml")
        try checkSameConfig(fromTOML, "toml")
        #expect(fromYAML.channel.namespaces == fromJSON.channel.namespaces)
        #expect(fromTOML.channel.namespaces == fromJSON.channel.namespaces)
        #expect(fromYAML.channel.withoutNamespace == fromJSON.channel.withoutNamespace)
        #expect(fromTOML.channel.withoutNamespace == fromJSON.channel.withoutNamespace)
    }

    @Test func formatIsChosenByExtension() throws {
        #expect(ConfigFormats.Format(path: "/etc/strata/config.json") == .json)
        #expect(ConfigFormats.Format(path: "c.YAML") == .yaml)
        #expect(ConfigFormats.Format(path: "c.yml") == .yaml)
        #expect(ConfigFormats.Format(path: "c.toml") == .toml)
        #expect(ConfigFormats.Format(path: "c.conf") == nil)
        #expect(ConfigFormats.Format(path: "config") == nil)

        let dir = try TempDir()
        defer { dir.cleanup() }
        // Unknown extensions are read as JSON.
        let c = try ConfigLoader.load(path: try dir.write("strata.conf", #"{"http_server":{"port":8123}}"#), environment: [:])
        #expect(c.httpServer.port == 8123)
        // YAML text in a .json file is a parse error, not silently accepted.
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.load(path: try dir.write("wrong.json", "http_server:\n  port: 8123\n"), environment: [:])
        }
        // And JSON is valid YAML, so a .yaml file holding JSON works.
        let j = try ConfigLoader.load(path: try dir.write("j.yaml", #"{"http_server":{"port":8124}}"#), environment: [:])
        #expect(j.httpServer.port == 8124)
    }

    @Test("syntax errors name the file", arguments: [
        ("bad.json", #"{"http_server": {"port": 9000"#),
        ("bad.yaml", "client:\n  token: [unclosed\n"),
        ("bad.toml", "[client\nping_interval = \"20s\"\n"),
    ])
    func syntaxErrors(_ name: String, _ body: String) throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try dir.write(name, body)
        let error = #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: path, environment: [:]) }
        #expect(error?.description.contains(path) == true)
    }

    @Test func durationsAsBareNumbersAreSeconds() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let yaml = try ConfigLoader.load(path: try dir.write("n.yaml", "client:\n  ping_interval: 30\n  pong_timeout: 10\n"), environment: [:])
        #expect(yaml.client.pingIntervalMillis == 30_000)
        #expect(yaml.client.pongTimeoutMillis == 10_000)
        let toml = try ConfigLoader.load(path: try dir.write("n.toml", "[client]\nping_interval = 30\n"), environment: [:])
        #expect(toml.client.pingIntervalMillis == 30_000)
    }

    @Test func configFileCombinesWithEnvironment() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try dir.write("config.toml", SameConfig.toml)
        let c = try ConfigLoader.load(
            path: path, environment: ["CENTRIFUGO_HTTP_SERVER_PORT": "9999", "CENTRIFUGO_CHANNEL_NAMESPACES_PRICE_HISTORY_SIZE": "5"])
        #expect(c.httpServer.port == 9999)
        #expect(c.namespace("price")?.historySize == 5)
        #expect(c.namespace("chat")?.historySize == 100)
    }
}
