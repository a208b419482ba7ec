import NIOSSL
import StrataConfig

/// The TLS context of `http_server.tls` (swift-nio-ssl, BoringSSL underneath): the certificate
/// chain and key, HTTP/1.1 offered by ALPN (WebSocket upgrades need it), and with
/// `client_ca_pem` client certificates required and checked against that CA.
enum ServerTLS {
    /// A start-up error naming the setting at fault.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// A server configuration offering HTTP/1.1 by ALPN (WebSocket upgrades need it), whatever
    /// the certificate's source (files or ACME).
    static func serverConfiguration(chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }

    static func context(_ tls: StrataConfig.TLS) throws(SetupError) -> NIOSSLContext? {
        guard tls.enabled else { return nil }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(tls.certPEM.utf8))
        } catch {
            throw SetupError(description: "http_server.tls.cert_pem: not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw SetupError(description: "http_server.tls.cert_pem: no certificate in it") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(tls.keyPEM.utf8), format: .pem)
        } catch {
            throw SetupError(description: "http_server.tls.key_pem: not a PEM private key (\(error))")
        }
        var configuration = serverConfiguration(chain: chain.map { .certificate($0) }, key: .privateKey(key))
        if !tls.clientCAPEM.isEmpty {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(tls.clientCAPEM.utf8)))
            } catch {
                throw SetupError(description: "http_server.tls.client_ca_pem: not a PEM certificate (\(error))")
            }
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            // Fails when the key does not belong to the certificate, among others.
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SetupError(description: "http_server.tls: the certificate and key cannot be used together (\(error))")
        }
    }
}
