import Testing
import StrataConfig

/// A config with one namespace "chat" holding `options` (a JSON object body without braces).
private func namespace(_ options: String) -> String {
    #"{"channel":{"namespaces":[{"name":"chat""# + (options.isEmpty ? "" : ",") + options + "}]}}"
}

@Suite("Config validation errors carry the key path")
struct ConfigValidationTests {
    @Test func validConfigHasNoErrors() {
        #expect(configErrors(namespace(#""history_size":10,"history_ttl":"300s","force_recovery":true"#)).isEmpty)
        #expect(configErrors(namespace(#""history_size":1,"history_ttl":"720h""#)).isEmpty)  // equal to the meta TTL is fine
        #expect(
            configErrors(namespace(#""history_size":1,"history_ttl":"1h","force_recovery":true,"force_recovery_mode":"cache","auto_cache_recover":true"#))
                .isEmpty)
    }

    @Test func historySizeWithoutTTL() throws {
        let errors = configErrors(namespace(#""history_size":10"#))
        let e = try #require(errors.at("channel.namespaces[0]"), "\(errors)")
        #expect(e.message.contains("history_ttl"))
        let ttlOnly = configErrors(namespace(#""history_ttl":"60s""#))
        #expect(ttlOnly.at("channel.namespaces[0]") != nil)
        let withoutNamespace = configErrors(#"{"channel":{"without_namespace":{"history_size":3}}}"#)
        #expect(withoutNamespace.at("channel.without_namespace") != nil)
    }

    @Test func forceRecoveryNeedsHistory() {
        let errors = configErrors(namespace(#""force_recovery":true"#))
        #expect(errors.paths == ["channel.namespaces[0].force_recovery"])
        let wn = configErrors(#"{"channel":{"without_namespace":{"force_recovery":true}}}"#)
        #expect(wn.paths == ["channel.without_namespace.force_recovery"])
    }

    /// Keyed cache channels need a stream in cache mode, and a limit in range.
    @Test func cacheKeyTagNeedsCacheModeHistory() throws {
        let keyed = #""history_size":10,"history_ttl":"300s","force_recovery":true,"force_recovery_mode":"cache","cache_key_tag":"id""#
        #expect(configErrors(namespace(keyed)).isEmpty)
        #expect(configErrors(namespace(#""cache_key_tag":"id""#)).paths == ["channel.namespaces[0].cache_key_tag"])
        #expect(configErrors(namespace(#""history_size":10,"history_ttl":"300s","cache_key_tag":"id""#)).paths
            == ["channel.namespaces[0].cache_key_tag"])
        #expect(configErrors(namespace(keyed + #","cache_key_limit":0"#)).paths == ["channel.namespaces[0].cache_key_limit"])
        let config = try decodeJSON(namespace(keyed + #","cache_key_limit":50"#))
        #expect(config.channel.namespaces[0].cacheKeyTag == "id")
        #expect(config.channel.namespaces[0].cacheKeyLimit == 50)
        #expect(try decodeJSON(namespace(keyed)).channel.namespaces[0].cacheKeyLimit == 10_000)
    }

    @Test("bad durations", arguments: [
        (#"{"client":{"ping_interval":"abc"}}"#, "client.ping_interval"),
        (#"{"client":{"pong_timeout":true}}"#, "client.pong_timeout"),
        (#"{"client":{"stale_close_delay":"10 parsecs"}}"#, "client.stale_close_delay"),
        (#"{"channel":{"history_meta_ttl":"forever"}}"#, "channel.history_meta_ttl"),
        (#"{"websocket":{"write_timeout":[1]}}"#, "websocket.write_timeout"),
        (namespace(#""history_size":1,"history_ttl":"1x""#), "channel.namespaces[0].history_ttl"),
        (namespace(#""history_meta_ttl":"1y""#), "channel.namespaces[0].history_meta_ttl"),
    ])
    func badDurations(_ json: String, _ path: String) {
        let errors = configErrors(json)
        #expect(errors.at(path) != nil, "\(errors)")
    }

    /// Numbers too large for the setting are errors, not traps (found by the config fuzz
    /// harness: `history_size: 1222…20` in YAML became a double the integer conversion trapped
    /// on; durations past Go's 292 years overflowed when turned into milliseconds).
    @Test("numbers too large", arguments: [
        (namespace(#""history_size":1e30,"history_ttl":"60s""#), "channel.namespaces[0].history_size"),
        (#"{"client":{"channel_limit":-1e300}}"#, "client.channel_limit"),
        (#"{"client":{"ping_interval":"9999999999999h"}}"#, "client.ping_interval"),
        (#"{"client":{"ping_interval":"1e308s"}}"#, "client.ping_interval"),
        (#"{"client":{"pong_timeout":9223372036854775807}}"#, "client.pong_timeout"),
        (#"{"client":{"stale_close_delay":"9223372036854775807"}}"#, "client.stale_close_delay"),
    ])
    func numbersTooLargeAreErrors(_ json: String, _ path: String) {
        let errors = configErrors(json)
        #expect(errors.at(path) != nil, "\(errors)")
    }

    @Test func idempotentResultTTL() throws {
        #expect(try decodeJSON("{}").engine.idempotentResultTTLSeconds == 300)
        #expect(try decodeJSON(#"{"engine":{"idempotent_result_ttl":"24h"}}"#).engine.idempotentResultTTLSeconds == 86_400)
        #expect(configErrors(#"{"engine":{"idempotent_result_ttl":"0s"}}"#).at("engine.idempotent_result_ttl") != nil)
        #expect(configErrors(#"{"engine":{"idempotent_result_ttl":"1500ms"}}"#).at("engine.idempotent_result_ttl") != nil)
    }

    @Test func theLongestDurationIsGos() throws {
        #expect(configErrors(#"{"client":{"ping_interval":"2562047h"}}"#).isEmpty)  // 292 years
        #expect(configErrors(#"{"client":{"ping_interval":"2562048h"}}"#).at("client.ping_interval") != nil)
        let yaml = try ConfigFormats.parse("client:\n  channel_limit: 12222222222222222222220\n", format: .yaml)
        #expect(throws: ConfigErrors.self) { try ConfigLoader.decode(yaml) }
    }

    @Test func historyTTLMustBeWholeSeconds() throws {
        let errors = configErrors(namespace(#""history_size":1,"history_ttl":"1500ms""#))
        let e = try #require(errors.at("channel.namespaces[0].history_ttl"), "\(errors)")
        #expect(e.message.contains("whole"))
        #expect(configErrors(namespace(#""history_size":1,"history_ttl":"2000ms""#)).isEmpty)
        let meta = configErrors(namespace(#""history_meta_ttl":"90500ms""#))
        #expect(meta.at("channel.namespaces[0].history_meta_ttl") != nil)
        let negative = configErrors(namespace(#""history_size":1,"history_ttl":"-1""#))
        #expect(negative.at("channel.namespaces[0].history_ttl") != nil)
    }

    @Test
    func globalHistoryMetaTTLMustBeWholeSeconds() {
        #expect(configErrors(#"{"channel":{"history_meta_ttl":"1500ms"}}"#).at("channel.history_meta_ttl") != nil)
    }

    @Test func unknownRecoveryMode() {
        let errors = configErrors(namespace(#""history_size":1,"history_ttl":"1h","force_recovery":true,"force_recovery_mode":"fast""#))
        #expect(errors.paths == ["channel.namespaces[0].force_recovery_mode"])
        #expect(configErrors(namespace(#""force_recovery_mode":"stream""#)).isEmpty)
    }

    @Test func unknownDeltaType() {
        let errors = configErrors(namespace(#""allowed_delta_types":["fossil","xdelta"]"#))
        #expect(errors.paths == ["channel.namespaces[0].allowed_delta_types"])
        #expect(errors.first?.message.contains("xdelta") == true)
        let notStrings = configErrors(namespace(#""allowed_delta_types":[1]"#))
        #expect(notStrings.at("channel.namespaces[0].allowed_delta_types[0]") != nil)
    }

    @Test("bad namespace names", arguments: ["a", "", "bad name", "ns/1", "чат", "a:b", "$private"])
    func badNamespaceNames(_ name: String) {
        let json = #"{"channel":{"namespaces":[{"name":"ok"},{"name":""# + name + #""}]}}"#
        let errors = configErrors(json)
        #expect(errors.paths == ["channel.namespaces[1].name"], "\(errors)")
    }

    @Test func namespaceWithoutNameOrDuplicated() {
        #expect(configErrors(#"{"channel":{"namespaces":[{"presence":true}]}}"#).at("channel.namespaces[0].name") != nil)
        let dup = configErrors(#"{"channel":{"namespaces":[{"name":"chat"},{"name":"chat"}]}}"#)
        #expect(dup.paths == ["channel.namespaces[1].name"])
        #expect(configErrors(#"{"channel":{"namespaces":["chat"]}}"#).at("channel.namespaces[0]") != nil)
        #expect(configErrors(#"{"channel":{"namespaces":[{"name":"A-b_c.9"}]}}"#).isEmpty)
    }

    @Test func historyTTLMustNotExceedMetaTTL() {
        #expect(configErrors(namespace(#""history_size":1,"history_ttl":"721h""#)).paths == ["channel.namespaces[0].history_ttl"])
        let global = configErrors(#"{"channel":{"history_meta_ttl":"1h","namespaces":[{"name":"chat","history_size":1,"history_ttl":"2h"}]}}"#)
        #expect(global.paths == ["channel.namespaces[0].history_ttl"])
        let own = configErrors(namespace(#""history_size":1,"history_ttl":"120s","history_meta_ttl":"60s""#))
        #expect(own.paths == ["channel.namespaces[0].history_ttl"])
        // A namespace's own larger meta TTL lifts the global one.
        #expect(
            configErrors(#"{"channel":{"history_meta_ttl":"1h","namespaces":[{"name":"chat","history_size":1,"history_ttl":"2h","history_meta_ttl":"3h"}]}}"#)
                .isEmpty)
    }

    @Test func pongTimeoutMustBeBelowPingInterval() {
        #expect(configErrors(#"{"client":{"ping_interval":"10s","pong_timeout":"10s"}}"#).paths == ["client.pong_timeout"])
        #expect(configErrors(#"{"client":{"ping_interval":"10s","pong_timeout":"11s"}}"#).paths == ["client.pong_timeout"])
        #expect(configErrors(#"{"client":{"pong_timeout":"30s"}}"#).paths == ["client.pong_timeout"])
        #expect(configErrors(#"{"client":{"ping_interval":"10s","pong_timeout":"9s"}}"#).isEmpty)
        // Disabled pings have no pong constraint.
        #expect(configErrors(#"{"client":{"ping_interval":"-1","pong_timeout":"30s"}}"#).isEmpty)
    }

    @Test func autoCacheRecoverNeedsCacheMode() {
        let errors = configErrors(namespace(#""history_size":1,"history_ttl":"1h","force_recovery":true,"auto_cache_recover":true"#))
        #expect(errors.paths == ["channel.namespaces[0].auto_cache_recover"])
    }

    @Test("other invalid values", arguments: [
        (#"{"http_server":{"port":0}}"#, "http_server.port"),
        (#"{"http_server":{"port":70000}}"#, "http_server.port"),
        (#"{"http_server":{"port":"http"}}"#, "http_server.port"),
        (#"{"log":{"level":"verbose"}}"#, "log.level"),
        (#"{"engine":{"type":"nats"}}"#, "engine.type"),
        (#"{"client":{"channel_limit":"many"}}"#, "client.channel_limit"),
        (#"{"client":{"channel_limit":-1}}"#, "client.channel_limit"),
        (#"{"client":{"insecure":"maybe"}}"#, "client.insecure"),
        (#"{"client":{"queue_max_size":0}}"#, "client.queue_max_size"),
        (#"{"client":{"allowed_origins":{"a":1}}}"#, "client.allowed_origins"),
        (#"{"client":{"token":{"hmac_secret_key":["x"]}}}"#, "client.token.hmac_secret_key"),
        (#"{"channel":{"max_length":0}}"#, "channel.max_length"),
        (#"{"websocket":{"message_size_limit":-5}}"#, "websocket.message_size_limit"),
        (#"{"http_api":{"error_mode":"loud"}}"#, "http_api.error_mode"),
        (#"{"channel":{"namespaces":{"name":"chat"}}}"#, "channel.namespaces"),
        (namespace(#""presence":"on""#), "channel.namespaces[0].presence"),
        (namespace(#""history_size":"big""#), "channel.namespaces[0].history_size"),
        (namespace(#""subscription_type":"map""#), "channel.namespaces[0].subscription_type"),
        (namespace(#""publication_data_format":"xml""#), "channel.namespaces[0].publication_data_format"),
        (namespace(#""channel_regex":"([""#), "channel.namespaces[0].channel_regex"),
        (#"{"channel":{"publication_data_format":"xml"}}"#, "channel.without_namespace.publication_data_format"),
        ("[1,2]", ""),
    ])
    func otherInvalidValues(_ json: String, _ path: String) {
        let errors = configErrors(json)
        #expect(errors.at(path) != nil, "\(errors)")
    }

    @Test func allErrorsAreReportedAtOnce() {
        let json = #"""
            {"http_server":{"port":0},"client":{"ping_interval":"x"},
             "channel":{"namespaces":[{"name":"a","history_size":3},{"name":"ok","force_recovery_mode":"?"}]}}
            """#
        let paths = Set(configErrors(json).paths)
        #expect(
            paths.isSuperset(of: [
                "http_server.port", "client.ping_interval", "channel.namespaces[0].name", "channel.namespaces[0]",
                "channel.namespaces[1].force_recovery_mode",
            ]), "\(paths)")
    }

    @Test func errorDescriptionsIncludeThePath() {
        let e = ConfigError(path: "client.pong_timeout", message: "must be less than client.ping_interval")
        #expect(e.description == "client.pong_timeout: must be less than client.ping_interval")
        #expect(ConfigError(path: "", message: "top level").description == "top level")
        do {
            _ = try decodeJSON(#"{"http_server":{"port":0},"log":{"level":"loud"}}"#)
            Issue.record("expected errors")
        } catch let all as ConfigErrors {
            let lines = all.description.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.contains { $0.hasPrefix("http_server.port: ") })
            #expect(lines.contains { $0.hasPrefix("log.level: ") })
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("Config unknown keys")
struct ConfigUnknownKeysTests {
    static let json = #"""
        {
          "foo": 1,
          "client": {"bar": true, "token": {"hmac_secret_key": "x", "baz": "q"}, "ping_interval": "25s"},
          "http_server": {"port": 8000, "tls": {"enabled": false, "cert_pem": "x"}},
          "channel": {"without_namespace": {"presence": true, "nope": 1}, "namespaces": [{"name": "chat", "bogus": 1}]},
          "proxies": [{"name": "pp", "endpoint": "http://x"}],
          "engine": {"type": "memory", "redis": {"address": ["redis://x"]}},
          "admin": {"enabled": false, "password": "p"},
          "totally_new_section": {"a": {"b": 1}},
          "websocket": {"compression": true}
        }
        """#

    @Test func unknownKeysAreListedAndIgnoredSectionsAreNot() throws {
        let c = try decodeJSON(Self.json)
        let keys = c.unknownKeys
        #expect(keys.contains("foo"))
        #expect(keys.contains("client.bar"))
        #expect(keys.contains("client.token.baz"))
        #expect(keys.contains("channel.without_namespace.nope"))
        #expect(keys.contains("totally_new_section"))
        for ignored in ["proxies", "engine.redis", "admin", "http_server.tls", "websocket.compression"] {
            #expect(!keys.contains { $0 == ignored || $0.hasPrefix(ignored + ".") || $0.hasPrefix(ignored + "[") }, "\(ignored) in \(keys)")
        }
        for known in ["client.ping_interval", "http_server.port", "engine.type", "client.token.hmac_secret_key", "channel.namespaces[0].name"] {
            #expect(!keys.contains(known), "\(known)")
        }
        // The list is sorted, so checkconfig output is stable.
        #expect(keys == keys.sorted())
        // Unknown keys do not fail loading.
        #expect(c.client.token.hmacSecretKey == "x")
        #expect(c.channel.withoutNamespace.presence)
    }

    @Test
    func unknownKeysInsideNamespacesAreListed() throws {
        let c = try decodeJSON(Self.json)
        #expect(c.unknownKeys.contains("channel.namespaces[0].bogus"), "\(c.unknownKeys)")
    }

    @Test func knownConfigHasNoUnknownKeys() throws {
        let c = try decodeJSON(SameConfig.json)
        #expect(c.unknownKeys.isEmpty, "\(c.unknownKeys)")
    }
}
