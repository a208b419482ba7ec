import Testing
import StrataConfig

@Suite("Config defaults (config.md)")
struct ConfigDefaultsTests {
    @Test func defaultsWithoutAFile() throws {
        let c = try ConfigLoader.load(path: nil, environment: [:])
        #expect(c.httpServer.port == 8000)
        #expect(c.httpServer.address == "")
        #expect(c.log.level == "info")
        #expect(c.client.pingIntervalMillis == 25_000)
        #expect(c.client.pongTimeoutMillis == 8_000)
        #expect(c.client.expiredCloseDelayMillis == 25_000)
        #expect(c.client.expiredSubCloseDelayMillis == 25_000)
        #expect(c.client.staleCloseDelayMillis == 10_000)
        #expect(c.client.channelLimit == 128)
        #expect(c.client.queueMaxSize == 1_048_576)
        #expect(c.client.presenceUpdateIntervalMillis == 27_000)
        #expect(c.client.channelPositionCheckDelayMillis == 40_000)
        #expect(c.client.historyMaxPublicationLimit == 300)
        #expect(c.client.recoveryMaxPublicationLimit == 300)
        #expect(c.client.allowedOrigins.isEmpty)
        #expect(!c.client.insecure)
        #expect(c.client.token.hmacSecretKey == "")
        #expect(c.channel.historyMetaTTLSeconds == 720 * 3600)
        #expect(c.channel.maxLength == 255)
        #expect(c.channel.privatePrefix == "$")
        #expect(c.channel.namespaceBoundary == ":")
        #expect(c.channel.userBoundary == "#")
        #expect(c.channel.userSeparator == ",")
        #expect(c.channel.namespaces.isEmpty)
        #expect(c.channel.withoutNamespace == ChannelOptions())
        #expect(c.engine.type == "lmdb")  // the embedded durable store is the default
        #expect(c.httpAPI.handlerPrefix == "/api")
        #expect(c.websocket.handlerPrefix == "/connection/websocket")
        #expect(c.websocket.messageSizeLimit == 65536)
        #expect(c.websocket.writeTimeoutMillis == 1000)
        #expect(c.health.handlerPrefix == "/health")
        #expect(c.prometheus.handlerPrefix == "/metrics")
        #expect(c.rpc.pingMethod == "ping")
        #expect(c.unknownKeys.isEmpty)
    }

    @Test func defaultChannelOptionsAreAllOff() {
        let o = ChannelOptions()
        #expect(o.historySize == 0)
        #expect(o.historyTTLSeconds == 0)
        #expect(!o.keepsHistory)
        #expect(o.forceRecoveryMode == .stream)
        #expect(o.publicationDataFormat == .any)
    }

    @Test func emptyDocumentsGiveDefaults() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        for (name, body) in [("a.json", "{}"), ("b.json", "  \n"), ("c.yaml", ""), ("d.toml", "")] {
            let c = try ConfigLoader.load(path: try dir.write(name, body), environment: [:])
            #expect(c.httpServer.port == 8000, "\(name)")
            #expect(c.channel.historyMetaTTLSeconds == 2_592_000, "\(name)")
        }
    }

    @Test func missingFileIsOnlyAnErrorWhenRequired() throws {
        let path = "/nonexistent/strata-\(Int.random(in: 0...1_000_000))/config.json"
        let c = try ConfigLoader.load(path: path, environment: [:])
        #expect(c.httpServer.port == 8000)
        let error = #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: path, environment: [:], requireFile: true) }
        #expect(error?.description.contains("does not exist") == true)
    }

    @Test func keepsHistoryNeedsBothSizeAndTTL() {
        var o = ChannelOptions()
        o.historySize = 10
        #expect(!o.keepsHistory)
        o.historyTTLSeconds = 60
        #expect(o.keepsHistory)
        o.historySize = 0
        #expect(!o.keepsHistory)
    }
}

@Suite("Durations.parseMillis")
struct DurationsTests {
    @Test("valid Go-style durations", arguments: [
        ("25s", 25_000), ("1m30s", 90_000), ("720h", 2_592_000_000), ("1000ms", 1000), ("-1", -1), ("300s", 300_000),
        ("1h", 3_600_000), ("1h1m1s1ms", 3_661_001), ("1.5s", 1500), ("0.5h", 1_800_000), ("0", 0), ("0s", 0),
        ("30", 30_000), (" 10s ", 10_000), ("2000000us", 2000), ("5000000000ns", 5000), ("-5s", -1), ("-1s", -1),
    ] as [(String, Int64)])
    func valid(_ input: String, _ millis: Int64) {
        #expect(Durations.parseMillis(input) == millis)
    }

    @Test("invalid durations", arguments: ["abc", "", "   ", "s", "10x", "1h30", "1.2.3s", "--1s", "ten seconds", "1d", "h1", "1 s"])
    func invalid(_ input: String) {
        #expect(Durations.parseMillis(input) == nil)
    }
}
