import StrataConfig
import Testing

@Suite("Redis engine configuration")
struct RedisConfigTests {
    @Test func defaultsAreCentrifugos() throws {
        let c = try decodeJSON(#"{"engine":{"type":"redis"}}"#)
        #expect(c.engine.type == "redis")
        #expect(c.engine.redis.endpoints == [.init(host: "127.0.0.1", port: 6379)])
        #expect(c.engine.redis.prefix == "centrifugo")
        #expect(c.engine.redis.connectTimeoutMillis == 1000 && c.engine.redis.ioTimeoutMillis == 4000)
        #expect(c.engine.redis.presenceTTLMillis == 60_000)
        #expect(!c.broker.enabled && !c.presenceManager.enabled)
    }

    @Test func severalAddressesShardAndEveryFormParses() throws {
        let c = try decodeJSON(
            #"{"engine":{"type":"redis","redis":{"address":["redis://10.0.0.1:6380","10.0.0.2:7000","cache-3","redis://h4/0"],"prefix":"app","io_timeout":"2s","presence_ttl":"30s"}}}"#
        )
        #expect(
            c.engine.redis.endpoints == [
                .init(host: "10.0.0.1", port: 6380), .init(host: "10.0.0.2", port: 7000), .init(host: "cache-3", port: 6379),
                .init(host: "h4", port: 6379),
            ])
        #expect(c.engine.redis.prefix == "app" && c.engine.redis.ioTimeoutMillis == 2000 && c.engine.redis.presenceTTLMillis == 30_000)
    }

    @Test func aSingleAddressStringAndTheEnvironmentWork() throws {
        let c = try decodeJSON(#"{"engine":{"type":"redis","redis":{"address":"redis://r1:6390"}}}"#)
        #expect(c.engine.redis.endpoints == [.init(host: "r1", port: 6390)])
        let e = try decodeJSON(
            "{}", env: ["CENTRIFUGO_ENGINE_TYPE": "redis", "CENTRIFUGO_ENGINE_REDIS_ADDRESS": "a:1 b:2"])
        #expect(e.engine.type == "redis" && e.engine.redis.endpoints == [.init(host: "a", port: 1), .init(host: "b", port: 2)])
    }

    @Test func brokerAndPresenceManagerSections() throws {
        let c = try decodeJSON(
            #"{"broker":{"enabled":true,"type":"redis","redis":{"address":"b:1"}},"presence_manager":{"enabled":true,"type":"redis","redis":{"address":"p:2","presence_ttl":"10s"}}}"#
        )
        #expect(c.broker.enabled && c.broker.type == "redis" && c.broker.redis.endpoints == [.init(host: "b", port: 1)])
        #expect(c.presenceManager.redis.endpoints == [.init(host: "p", port: 2)] && c.presenceManager.redis.presenceTTLMillis == 10_000)
    }

    @Test(arguments: [
        (#"{"engine":{"redis":{"address":["x:1?tls_enabled=maybe"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":["redis+sentinel://s:26379?sentinel_master_name=m"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":["redis+cluster://c:7000"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"tls":{"enabled":true,"cert_pem":"/no/such.pem"}}}}"#, "engine.redis.tls.cert_pem"),
        (#"{"engine":{"redis":{"tls":{"enabled":true,"key_pem":"/no/such.key"}}}}"#, "engine.redis.tls.key_pem"),
        (#"{"engine":{"redis":{"address":["u:p@x:1"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":["redis://x:1/three"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"db":-1}}}"#, "engine.redis.db"),
        (#"{"engine":{"redis":{"address":["x:0"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":[]}}}"#, "engine.redis.address"),
        (#"{"engine":{"redis":{"cluster_address":["c"]}}}"#, "engine.redis.cluster_address[0]"),
        (#"{"engine":{"redis":{"cluster_address":["c:1,d:x"]}}}"#, "engine.redis.cluster_address[0]"),
        (#"{"engine":{"redis":{"cluster_address":["c:1"],"db":1}}}"#, "engine.redis.db"),
        (#"{"engine":{"redis":{"prefix":""}}}"#, "engine.redis.prefix"),
        (#"{"broker":{"enabled":true,"type":"postgres"}}"#, "broker.type"),
        (#"{"broker":{"enabled":true,"type":"nats","nats":{"url":"nats://:4222"}}}"#, "broker.nats.url"),
        (#"{"broker":{"enabled":true,"type":"nats","nats":{"url":"nats://n:99999"}}}"#, "broker.nats.url"),
        (#"{"broker":{"enabled":true,"type":"nats","nats":{"allow_wildcards":true}}}"#, "broker.nats.allow_wildcards"),
        (#"{"engine":{"redis":{"sentinel_address":["s:26379"]}}}"#, "engine.redis.sentinel_master_name"),
        (#"{"engine":{"redis":{"sentinel_address":["s"],"sentinel_master_name":"m"}}}"#, "engine.redis.sentinel_address[0]"),
    ])
    func unsupportedSettingsAreRefusedWithTheirPath(_ json: String, _ path: String) {
        let errors = configErrors(json)
        #expect(errors.at(path) != nil, "\(errors)")
    }

    /// Credentials and database: the section's keys for every address, an address URL's own
    /// (percent-decoded) in their place, as Centrifugo reads them.
    @Test func credentialsAndDatabaseNumbers() throws {
        let c = try decodeJSON(
            #"{"engine":{"redis":{"user":"app","password":"secret","db":2,"address":["a:1","redis://:p%40ss@b:2/5","redis://ops:pw@c:3"]}}}"#)
        #expect(
            c.engine.redis.endpoints == [
                .init(host: "a", port: 1, user: "app", password: "secret", db: 2),
                .init(host: "b", port: 2, user: "app", password: "p@ss", db: 5),
                .init(host: "c", port: 3, user: "ops", password: "pw", db: 2),
            ])
        #expect(c.unknownKeys.isEmpty)
    }

    /// TLS: the section's `tls` for every address when enabled; `rediss://` and
    /// `?tls_enabled=true` turn it on for one address with the section's other TLS settings.
    @Test func tlsPerSectionAndPerAddress() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        // The JSON holds the PEM's line breaks as \n escapes.
        let c = try decodeJSON(
            #"{"engine":{"redis":{"tls":{"server_ca_pem":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","server_name":"r.example"},"address":["a:1","rediss://b:2","redis://c:3?tls_enabled=true"]}}}"#)
        let tls = c.engine.redis.endpoints.map(\.tls)
        #expect(tls.map(\.enabled) == [false, true, true])
        #expect(tls[1].serverCAPEM == pem && tls[1].serverName == "r.example" && !tls[1].insecureSkipVerify)
        let all = try decodeJSON(#"{"engine":{"redis":{"tls":{"enabled":true,"insecure_skip_verify":true},"address":["a:1","b:2"]}}}"#)
        #expect(all.engine.redis.endpoints.allSatisfy { $0.tls.enabled && $0.tls.insecureSkipVerify })
        #expect(all.unknownKeys.isEmpty)
    }

    /// Sentinel: each entry is one shard's Sentinels; the master's credentials are the section's.
    @Test func sentinelShards() throws {
        let c = try decodeJSON(
            #"{"engine":{"redis":{"sentinel_address":["s1:26379,s2:26380","s3:26379"],"sentinel_master_name":"mymaster","sentinel_password":"sp","password":"mp","address":"ignored:1"}}}"#)
        #expect(c.engine.redis.sentinels == [[.init(host: "s1", port: 26379), .init(host: "s2", port: 26380)], [.init(host: "s3", port: 26379)]])
        #expect(c.engine.redis.sentinelMasterName == "mymaster" && c.engine.redis.sentinelPassword == "sp")
        #expect(c.engine.redis.endpoints.count == 2 && c.engine.redis.endpoints.allSatisfy { $0.password == "mp" })
    }

    /// Cluster: each entry is one shard's cluster by its seeds; it wins over Sentinels and
    /// addresses, as in Centrifugo; the section's credentials and TLS are every node's.
    @Test func clusterShards() throws {
        let c = try decodeJSON(
            #"{"engine":{"redis":{"cluster_address":["c1:7000, c2:7001","c3:7000"],"sentinel_address":["s:1"],"password":"mp","tls":{"enabled":true}}}}"#)
        #expect(c.engine.redis.clusters == [[.init(host: "c1", port: 7000), .init(host: "c2", port: 7001)], [.init(host: "c3", port: 7000)]])
        #expect(c.engine.redis.sentinels.isEmpty)
        #expect(c.engine.redis.endpoints.count == 2 && c.engine.redis.endpoints.allSatisfy { $0.password == "mp" && $0.tls.enabled })
        #expect(c.unknownKeys.isEmpty)
    }

    /// NATS: Go's URL forms, several servers, credentials percent-decoded, a token.
    @Test func natsServers() throws {
        let c = try decodeJSON(
            #"{"broker":{"enabled":true,"type":"nats","nats":{"url":"nats://u:p%40ss@n1:4223, n2 ,nats://tok@n3","prefix":"app","dial_timeout":"2s"}}}"#)
        let servers = c.broker.nats.servers
        #expect(servers.map(\.host) == ["n1", "n2", "n3"] && servers.map(\.port) == [4223, 4222, 4222])
        #expect(servers[0].user == "u" && servers[0].password == "p@ss" && servers[2].token == "tok")
        #expect(c.broker.nats.prefix == "app" && c.broker.nats.dialTimeoutMillis == 2000 && !c.broker.nats.tls.enabled)
        let tls = try decodeJSON(#"{"broker":{"enabled":true,"type":"nats","nats":{"url":"tls://n1:4443","tls":{"server_name":"nats.example"}}}}"#)
        #expect(tls.broker.nats.tls.enabled && tls.broker.nats.tls.serverName == "nats.example" && tls.broker.nats.servers.map(\.port) == [4443])
        #expect(c.unknownKeys.isEmpty)
    }
}
