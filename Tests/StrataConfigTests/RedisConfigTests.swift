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
        (#"{"engine":{"redis":{"tls":{"enabled":true,"cert_pem":"/no/such.pem"}}}}"#, "engine.redis.tls.cert_pem"),
        (#"{"engine":{"redis":{"tls":{"enabled":true,"key_pem":"/no/such.key"}}}}"#, "engine.redis.tls.key_pem"),
        (#"{"engine":{"redis":{"address":["u:p@x:1"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":["redis://x:1/three"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"db":-1}}}"#, "engine.redis.db"),
        (#"{"engine":{"redis":{"address":["x:0"]}}}"#, "engine.redis.address[0]"),
        (#"{"engine":{"redis":{"address":[]}}}"#, "engine.redis.address"),
        (#"{"engine":{"redis":{"cluster_address":["c:1"]}}}"#, "engine.redis.cluster_address"),
        (#"{"engine":{"redis":{"prefix":""}}}"#, "engine.redis.prefix"),
        (#"{"broker":{"enabled":true,"type":"nats"}}"#, "broker.type"),
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
}
