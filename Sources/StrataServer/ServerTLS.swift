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
        let chain = try certificates(tls.certPEM, at: "http_server.tls.cert_pem")
        let key = try privateKey(tls.keyPEM, at: "http_server.tls.key_pem")
        var configuration = serverConfiguration(chain: chain.map { .certificate($0) }, key: .privateKey(key))
        if !tls.clientCAPEM.isEmpty {
            configuration.trustRoots = .certificates(try certificates(tls.clientCAPEM, at: "http_server.tls.client_ca_pem"))
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            // Fails when the key does not belong to the certificate, among others.
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SetupError(description: "http_server.tls: the certificate and key cannot be used together (\(error))")
        }
    }

    /// The certificates of a PEM setting; `path` names the setting in the error.
    static func certificates(_ pem: String, at path: String) throws(SetupError) -> [NIOSSLCertificate] {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
        } catch {
            throw SetupError(description: "\(path): not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw SetupError(description: "\(path): no certificate in it") }
        return chain
    }

    static func privateKey(_ pem: String, at path: String) throws(SetupError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem)
        } catch {
            throw SetupError(description: "\(path): not a PEM private key (\(error))")
        }
    }
}
