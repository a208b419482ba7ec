import Crypto
import Foundation
import Logging
import Metrics
import NIOSSL
import StrataCore
import StrataHTTPClient

/// Automatic TLS (`http_server.tls_autocert`): a certificate per host name from an ACME CA,
/// kept in the cache directory and renewed before it expires, handed to each TLS handshake by
/// the name the client asked for (SNI).
///
/// Unlike Go's autocert, which Centrifugo uses, certificates are had at start rather than at a
/// client's first handshake: a server that cannot get one says so when it starts, not to its
/// first user, and a handshake never waits for a CA.
package final class CertificateManager: Sendable {
    package struct Options: Sendable {
        package var hosts: [String]
        /// The host whose certificate a handshake without SNI (or with a name not listed) gets.
        package var defaultHost: String
        package var directoryURL: String
        package var directoryTrustRoots: String
        package var email: String
        package var cacheDirectory: String
        /// Renew when the certificate has less than this left (Go's autocert: 30 days).
        package var renewBefore: Duration

        package init(
            hosts: [String], defaultHost: String, directoryURL: String, directoryTrustRoots: String, email: String, cacheDirectory: String,
            renewBefore: Duration
        ) {
            self.hosts = hosts
            self.defaultHost = defaultHost
            self.directoryURL = directoryURL
            self.directoryTrustRoots = directoryTrustRoots
            self.email = email
            self.cacheDirectory = cacheDirectory
            self.renewBefore = renewBefore
        }
    }

    /// A certificate as TLS serves it, with the figures renewal reads.
    struct Served: Sendable {
        let certificate: HostCertificate
        let override: NIOSSLContextConfigurationOverride
        /// The next renewal attempt (moved on after a failed one).
        var renewAt: Date
    }

    package let options: Options
    package let challenges = ChallengeTokens()
    let cache: CertificateCache
    let logger: Logger
    private let served = Locked<[String: Served]>([:])
    private let client = Locked<ACMEClient?>(nil)

    package init(options: Options, logger: Logger) {
        self.options = options
        self.cache = CertificateCache(directory: options.cacheDirectory)
        self.logger = logger
    }

    /// Has a certificate for every host: the cached one while it is valid, else a new one from
    /// the CA. Throws, naming the host and the CA, when a host has neither.
    package func prepare() async throws {
        for host in options.hosts {
            if let cached = cachedCertificate(host), (try? install(host, cached)) != nil {
                logger.info(
                    "TLS certificate from the cache",
                    metadata: ["host": "\(host)", "expires": "\(cached.notValidAfter)", "file": "\(cache.path(host))"])
                continue
            }
            do {
                try install(host, try await obtain(host))
            } catch {
                let cached = cache.isEnabled ? "none usable in \(cache.path(host))" : "no cache_dir"
                throw ACMEError(
                    "http_server.tls_autocert: no certificate for \(host) (\(cached)) and the ACME server \(options.directoryURL) did not issue one: \(error)")
            }
        }
    }

    /// What a handshake presents: the certificate of the name the client asked for, else the
    /// default host's.
    package func override(serverName: String?) -> NIOSSLContextConfigurationOverride {
        served.withLock { served in
            let host = serverName?.lowercased()
            return (host.flatMap { served[$0] } ?? served[options.defaultHost])?.override ?? .noChanges
        }
    }

    /// The default host's certificate and key, which the TLS context starts with.
    package func defaultCertificate() -> HostCertificate? {
        served.withLock { $0[options.defaultHost]?.certificate }
    }

    /// Renews each certificate when due, until cancelled. A failed renewal is logged and tried
    /// again after a pause that doubles up to an hour; the old certificate is served meanwhile.
    package func maintain() async {
        var failures: [String: Int] = [:]
        while !Task.isCancelled {
            let now = Date()
            let due = served.withLock { $0.filter { $0.value.renewAt <= now }.map(\.key) }.sorted()
            for host in due {
                do {
                    try install(host, try await obtain(host))
                    failures[host] = nil
                } catch {
                    let count = failures[host, default: 0] + 1
                    failures[host] = count
                    let pause = min(3600, 60 * (1 << min(count - 1, 6)))
                    served.withLock { $0[host]?.renewAt = Date().addingTimeInterval(TimeInterval(pause)) }
                    logger.error(
                        "TLS certificate renewal failed: serving the current one and trying again",
                        metadata: ["host": "\(host)", "error": "\(error)", "retry_in_seconds": "\(pause)"])
                }
            }
            let next = served.withLock { $0.values.map(\.renewAt).min() } ?? now.addingTimeInterval(3600)
            // Wakes at least hourly, so a clock that jumped is noticed.
            let wait = min(max(next.timeIntervalSinceNow, 0.05), 3600)
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
        }
    }

    /// A cached certificate that is for this host and not expired.
    func cachedCertificate(_ host: String) -> HostCertificate? {
        guard let text = cache.read(host) else { return nil }
        do {
            let certificate = try HostCertificate(pem: text)
            guard certificate.covers(host) else { throw ACMEError("it is for \(certificate.names.joined(separator: ", "))") }
            guard certificate.notValidAfter > Date() else { throw ACMEError("it expired on \(certificate.notValidAfter)") }
            return certificate
        } catch {
            logger.warning("cached TLS certificate not used", metadata: ["file": "\(cache.path(host))", "reason": "\(error)"])
            return nil
        }
    }

    /// A new certificate from the CA, cached before it is served.
    func obtain(_ host: String) async throws -> HostCertificate {
        logger.info("asking the ACME server for a TLS certificate", metadata: ["host": "\(host)", "ca": "\(options.directoryURL)"])
        let key = P256.Signing.PrivateKey()
        let certificate: HostCertificate
        do {
            let chain = try await acmeClient().issue(names: [host], certificateKey: key)
            certificate = try HostCertificate(chainPEM: chain, key: key)
        } catch {
            Counter(label: "strata_acme_orders_total", dimensions: [("result", "failed")]).increment()
            throw error
        }
        Counter(label: "strata_acme_orders_total", dimensions: [("result", "issued")]).increment()
        do {
            try cache.write(host, certificate.pem)
        } catch {
            logger.error("cannot cache the new TLS certificate", metadata: ["host": "\(host)", "error": "\(error)"])
        }
        logger.info("new TLS certificate", metadata: ["host": "\(host)", "expires": "\(certificate.notValidAfter)"])
        return certificate
    }

    func install(_ host: String, _ certificate: HostCertificate) throws {
        let override = try Self.override(certificate)
        let served = Served(certificate: certificate, override: override, renewAt: renewalTime(certificate))
        self.served.withLock { $0[host] = served }
        // For alerts: `strata_tls_certificate_expiry_timestamp_seconds - time() < 14 * 86400`.
        Gauge(label: "strata_tls_certificate_expiry_timestamp_seconds", dimensions: [("host", host)])
            .record(certificate.notValidAfter.timeIntervalSince1970)
    }

    /// `renew_before` ahead of expiry; for a certificate whose whole life is shorter than that,
    /// two thirds into it (else every renewal would be due at once).
    func renewalTime(_ certificate: HostCertificate) -> Date {
        let renewBefore = TimeInterval(options.renewBefore.components.seconds)
        let lifetime = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
        if lifetime <= renewBefore { return certificate.notValidBefore.addingTimeInterval(lifetime * 2 / 3) }
        return certificate.notValidAfter.addingTimeInterval(-renewBefore)
    }

    static func override(_ certificate: HostCertificate) throws -> NIOSSLContextConfigurationOverride {
        let identity = try certificate.tlsIdentity()
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = identity.chain
        override.privateKey = identity.key
        return override
    }

    /// The ACME client, made at first use with the cached account key (or a new one, cached).
    private func acmeClient() throws -> ACMEClient {
        if let client = client.withLock({ $0 }) { return client }
        let key: AccountKey
        if let text = cache.read(CertificateCache.accountKeyName), let cached = try? P256.Signing.PrivateKey(pemRepresentation: text) {
            key = AccountKey(cached)
        } else {
            key = AccountKey()
            try cache.write(CertificateCache.accountKeyName, key.privateKey.pemRepresentation + "\n")
        }
        let made = ACMEClient(
            directoryURL: options.directoryURL, http: try OutboundHTTPClient(trustRoots: options.directoryTrustRoots), key: key,
            email: options.email, challenges: challenges, logger: logger)
        return client.withLock { current in
            if let current { return current }
            current = made
            return made
        }
    }
}
