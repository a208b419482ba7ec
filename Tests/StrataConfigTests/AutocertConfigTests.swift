import Testing

@testable import StrataConfig

/// `http_server.tls_autocert`: what a config that can get certificates reads as, and the
/// configs that cannot, refused with the key at fault.
@Suite struct AutocertConfigTests {
    @Test func aWorkingSectionReadsWithCentrifugosKeysAndStratasOwn() throws {
        let c = try decodeJSON(
            #"""
            {"http_server": {"tls_autocert": {"enabled": true, "host_whitelist": ["Example.com", "www.example.com", "example.com"],
             "server_name": "www.example.com", "cache_dir": "/var/lib/strata/certs", "email": "ops@example.com",
             "http": true, "http_addr": "[::1]:8080", "renew_before": "240h"}}}
            """#)
        let a = c.httpServer.tlsAutocert
        #expect(a.enabled && a.hosts == ["example.com", "www.example.com"])
        #expect(a.serverName == "www.example.com" && a.cacheDir == "/var/lib/strata/certs" && a.email == "ops@example.com")
        #expect(a.httpHost == "::1" && a.httpPort == 8080)
        #expect(a.directoryURL == "https://acme-v02.api.letsencrypt.org/directory")
        #expect(a.renewBeforeMillis == 240 * 3_600_000)
    }

    @Test func theDefaultsAreCentrifugosAndServerNameAloneIsEnough() throws {
        let a = try decodeJSON(#"{"http_server": {"tls_autocert": {"enabled": true, "server_name": "a.example", "http": true}}}"#)
            .httpServer.tlsAutocert
        #expect(a.hosts == ["a.example"] && a.httpHost == "" && a.httpPort == 80 && a.renewBeforeMillis == 720 * 3_600_000)
    }

    @Test func offItIsNotChecked() {
        #expect(configErrors(#"{"http_server": {"tls_autocert": {"enabled": false, "http_addr": "nonsense", "host_whitelist": ["*.x"]}}}"#).isEmpty)
    }

    @Test(arguments: [
        (#""http": false, "host_whitelist": ["a.example"]"#, "http_server.tls_autocert.http"),
        (#""http": true"#, "http_server.tls_autocert.host_whitelist"),
        (#""http": true, "host_whitelist": ["*.a.example"]"#, "http_server.tls_autocert.host_whitelist[0]"),
        (#""http": true, "host_whitelist": ["127.0.0.1"]"#, "http_server.tls_autocert.host_whitelist[0]"),
        (#""http": true, "host_whitelist": ["a_b.example"]"#, "http_server.tls_autocert.host_whitelist[0]"),
        (#""http": true, "host_whitelist": ["a.example"], "server_name": "b.example""#, "http_server.tls_autocert.server_name"),
        (#""http": true, "host_whitelist": ["a.example"], "http_addr": "80""#, "http_server.tls_autocert.http_addr"),
        (#""http": true, "host_whitelist": ["a.example"], "http_addr": ":8000""#, "http_server.tls_autocert.http_addr"),
        (#""http": true, "host_whitelist": ["a.example"], "directory_url": "ftp://ca""#, "http_server.tls_autocert.directory_url"),
        (#""http": true, "host_whitelist": ["a.example"], "directory_ca_pem": "/no/such.pem""#, "http_server.tls_autocert.directory_ca_pem"),
        (#""http": true, "host_whitelist": ["a.example"], "renew_before": "0s""#, "http_server.tls_autocert.renew_before"),
    ])
    func sectionsThatCannotGetACertificateAreRefused(section: String, key: String) {
        let errors = configErrors(#"{"http_server": {"tls_autocert": {"enabled": true, \#(section)}}}"#)
        #expect(errors.map(\.path) == [key], "\(errors)")
    }
}
