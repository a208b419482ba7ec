import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import StrataACME
import StrataConfig

/// `http_server.tls_autocert` at start: the challenge listener bound, a certificate for every
/// host (cached or new), and the TLS context whose handshakes take each host's current
/// certificate, so a renewal is served from the next handshake on without a restart.
struct AutoTLS {
    let context: NIOSSLContext
    /// The challenge listener and the renewal loop, run beside the server.
    let services: [any Service]

    static func start(_ config: StrataConfig.TLSAutocert, httpsPort: Int, logger: Logger) async throws -> AutoTLS {
        let manager = CertificateManager(
            options: .init(
                hosts: config.hosts, defaultHost: config.serverName.isEmpty ? config.hosts[0] : config.serverName,
                directoryURL: config.directoryURL, directoryTrustRoots: config.directoryCAPEM, email: config.email,
                cacheDirectory: config.cacheDir, renewBefore: .milliseconds(config.renewBeforeMillis)),
            logger: logger)
        let listener = ChallengeListener(
            host: config.httpHost.isEmpty ? "0.0.0.0" : config.httpHost, port: config.httpPort, tokens: manager.challenges,
            httpsPort: httpsPort, logger: logger)
        // The config check saw the file's port; `--port` may have moved the server onto this one.
        if config.httpPort == httpsPort {
            throw ServerTLS.SetupError(description: "http_server.tls_autocert.http_addr: port \(httpsPort) is the server's own port")
        }
        do {
            try await listener.bind()
        } catch {
            let privilege = config.httpPort < 1024 ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE (docs/tls.md)" : ""
            throw ServerTLS.SetupError(
                description: "http_server.tls_autocert.http_addr: cannot listen on \(config.httpHost):\(config.httpPort) for the ACME challenge (\(error))\(privilege)")
        }
        do {
            try await manager.prepare()
            guard let first = manager.defaultCertificate() else { throw ACMEError("no certificate for \(manager.options.defaultHost)") }
            let identity = try first.tlsIdentity()
            var configuration = ServerTLS.serverConfiguration(chain: identity.chain, key: identity.key)
            configuration.sslContextCallback = { values, promise in
                promise.succeed(manager.override(serverName: values.serverHostname))
            }
            return AutoTLS(context: try NIOSSLContext(configuration: configuration), services: [listener, CertificateRenewal(manager: manager)])
        } catch {
            await listener.close()
            throw ServerTLS.SetupError(description: "\(error)")
        }
    }
}

/// Renews the certificates when due, until the server stops.
struct CertificateRenewal: Service {
    let manager: CertificateManager

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await manager.maintain()
        }
    }
}
