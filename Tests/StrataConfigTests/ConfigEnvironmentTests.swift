import Testing
import StrataConfig

@Suite("Config environment overrides")
struct ConfigEnvironmentTests {
    @Test func centrifugoPrefixOverridesTheFile() throws {
        let c = try decodeJSON(
            #"{"client":{"token":{"hmac_secret_key":"from-file"}}}"#, env: ["CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "from-env"])
        #expect(c.client.token.hmacSecretKey == "from-env")
        let noFile = try decodeJSON("{}", env: ["CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "only-env"])
        #expect(noFile.client.token.hmacSecretKey == "only-env")
    }

    @Test func strataPrefixWinsOverCentrifugo() throws {
        let c = try decodeJSON(
            #"{"client":{"token":{"hmac_secret_key":"file"}}}"#,
            env: ["CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "centrifugo", "STRATA_CLIENT_TOKEN_HMAC_SECRET_KEY": "strata"])
        #expect(c.client.token.hmacSecretKey == "strata")
        let onlyStrata = try decodeJSON("{}", env: ["STRATA_HTTP_SERVER_PORT": "7001"])
        #expect(onlyStrata.httpServer.port == 7001)
    }

    @Test func emptyValuesCountAsUnset() throws {
        let c = try decodeJSON(
            #"{"http_server":{"port":9100},"client":{"token":{"hmac_secret_key":"file"}}}"#,
            env: [
                "CENTRIFUGO_HTTP_SERVER_PORT": "", "STRATA_CLIENT_TOKEN_HMAC_SECRET_KEY": "",
                "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY": "centrifugo", "CENTRIFUGO_CLIENT_PING_INTERVAL": "",
            ])
        #expect(c.httpServer.port == 9100)
        #expect(c.client.token.hmacSecretKey == "centrifugo")
        #expect(c.client.pingIntervalMillis == 25_000)
    }

    @Test func unrelatedVariablesAreIgnored() throws {
        let c = try decodeJSON("{}", env: ["PATH": "/usr/bin", "HTTP_SERVER_PORT": "1", "centrifugo_http_server_port": "2"])
        #expect(c.httpServer.port == 8000)
    }

    @Test func typedValuesFromStrings() throws {
        let c = try decodeJSON(
            "{}",
            env: [
                "CENTRIFUGO_HTTP_SERVER_PORT": "9001", "CENTRIFUGO_CLIENT_INSECURE": "true",
                "CENTRIFUGO_CLIENT_ALLOW_ANONYMOUS_CONNECT_WITHOUT_TOKEN": "1", "CENTRIFUGO_CLIENT_PING_INTERVAL": "30s",
                "CENTRIFUGO_CLIENT_PONG_TIMEOUT": "10000ms", "CENTRIFUGO_CHANNEL_HISTORY_META_TTL": "24h",
                "CENTRIFUGO_HTTP_API_KEY": "api-key", "CENTRIFUGO_LOG_LEVEL": "warn",
            ])
        #expect(c.httpServer.port == 9001)
        #expect(c.client.insecure)
        #expect(c.client.allowAnonymousConnectWithoutToken)
        #expect(c.client.pingIntervalMillis == 30_000)
        #expect(c.client.pongTimeoutMillis == 10_000)
        #expect(c.channel.historyMetaTTLSeconds == 86_400)
        #expect(c.httpAPI.key == "api-key")
        #expect(c.log.level == "warn")
    }

    @Test func falseFromTheEnvironmentOverridesTrueInTheFile() throws {
        let c = try decodeJSON(#"{"client":{"insecure":true}}"#, env: ["CENTRIFUGO_CLIENT_INSECURE": "false"])
        #expect(!c.client.insecure)
        let zero = try decodeJSON(#"{"client":{"insecure":true}}"#, env: ["CENTRIFUGO_CLIENT_INSECURE": "0"])
        #expect(!zero.client.insecure)
    }

    @Test func badEnvironmentValuesAreErrorsAtTheKeyPath() {
        let errors = configErrors(
            "{}", env: ["CENTRIFUGO_HTTP_SERVER_PORT": "eighty", "CENTRIFUGO_CLIENT_INSECURE": "yes-please", "CENTRIFUGO_CLIENT_PING_INTERVAL": "soon"])
        #expect(errors.at("http_server.port") != nil)
        #expect(errors.at("client.insecure") != nil)
        #expect(errors.at("client.ping_interval") != nil)
    }

    @Test func spaceSeparatedListFromTheEnvironment() throws {
        let c = try decodeJSON(
            #"{"client":{"allowed_origins":["http://file.example"]}}"#,
            env: ["CENTRIFUGO_CLIENT_ALLOWED_ORIGINS": "http://a.example  https://*.b.example http://localhost:3000"])
        #expect(c.client.allowedOrigins == ["http://a.example", "https://*.b.example", "http://localhost:3000"])
        let single = try decodeJSON("{}", env: ["CENTRIFUGO_CLIENT_ALLOWED_ORIGINS": "*"])
        #expect(single.client.allowedOrigins == ["*"])
    }

    @Test func namespacesAsAJSONString() throws {
        let namespaces = #"""
            [{"name":"chat","history_size":50,"history_ttl":"600s","force_recovery":true,"allow_subscribe_for_client":true},
             {"name":"price","history_size":1,"history_ttl":"1h","force_recovery":true,"force_recovery_mode":"cache"}]
            """#
        let c = try decodeJSON(#"{"channel":{"namespaces":[{"name":"fromfile"}]}}"#, env: ["CENTRIFUGO_CHANNEL_NAMESPACES": namespaces])
        #expect(c.channel.namespaces.map(\.name) == ["chat", "price"])
        let chat = try #require(c.namespace("chat"))
        #expect(chat.historySize == 50)
        #expect(chat.historyTTLSeconds == 600)
        #expect(chat.forceRecovery)
        #expect(chat.allowSubscribeForClient)
        #expect(c.namespace("price")?.forceRecoveryMode == .cache)
        #expect(c.unknownKeys.isEmpty, "\(c.unknownKeys)")
    }

    @Test func namespacesEnvThatIsNotJSONIsAnError() {
        let errors = configErrors("{}", env: ["CENTRIFUGO_CHANNEL_NAMESPACES": "chat,price"])
        #expect(errors.at("channel.namespaces") != nil)
        let notAList = configErrors("{}", env: ["CENTRIFUGO_CHANNEL_NAMESPACES": #"{"name":"chat"}"#])
        #expect(notAList.at("channel.namespaces") != nil)
    }

    @Test func validationAppliesToNamespacesFromTheEnvironment() {
        let errors = configErrors("{}", env: ["CENTRIFUGO_CHANNEL_NAMESPACES": #"[{"name":"chat","history_size":5}]"#])
        #expect(errors.at("channel.namespaces[0]") != nil)
    }

    @Test func perNamespaceOptionOverride() throws {
        let json = #"""
            {"channel":{"namespaces":[
              {"name":"chat","history_size":100,"history_ttl":"300s"},
              {"name":"news","history_size":100,"history_ttl":"300s"}]}}
            """#
        let c = try decodeJSON(
            json,
            env: [
                "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_SIZE": "50", "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_TTL": "60s",
                "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_FORCE_RECOVERY": "true",
            ])
        let chat = try #require(c.namespace("chat"))
        #expect(chat.historySize == 50)
        #expect(chat.historyTTLSeconds == 60)
        #expect(chat.forceRecovery)
        let news = try #require(c.namespace("news"))
        #expect(news.historySize == 100)
        #expect(news.historyTTLSeconds == 300)
        #expect(!news.forceRecovery)
    }

    @Test func perNamespaceOverrideMapsDotsAndDashes() throws {
        let c = try decodeJSON(
            #"{"channel":{"namespaces":[{"name":"my-ns.v2"}]}}"#,
            env: ["CENTRIFUGO_CHANNEL_NAMESPACES_MY_NS_V2_PRESENCE": "true", "STRATA_CHANNEL_NAMESPACES_MY_NS_V2_JOIN_LEAVE": "1"])
        let ns = try #require(c.namespace("my-ns.v2"))
        #expect(ns.presence)
        #expect(ns.joinLeave)
    }

    @Test func perNamespaceOverrideIsValidated() {
        let errors = configErrors(
            #"{"channel":{"namespaces":[{"name":"chat","history_size":10,"history_ttl":"60s"}]}}"#,
            env: ["CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_TTL": "1500ms"])
        #expect(errors.at("channel.namespaces[0].history_ttl") != nil)
    }

    @Test func withoutNamespaceOptionsFromTheEnvironment() throws {
        let c = try decodeJSON(
            "{}",
            env: [
                "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_HISTORY_SIZE": "10", "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_HISTORY_TTL": "30s",
                "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_ALLOWED_DELTA_TYPES": "fossil",
            ])
        #expect(c.channel.withoutNamespace.historySize == 10)
        #expect(c.channel.withoutNamespace.historyTTLSeconds == 30)
        #expect(c.channel.withoutNamespace.allowedDeltaTypes == ["fossil"])
    }
}
