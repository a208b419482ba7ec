import NIOSSL
import StrataConfig

/// The TLS context of a connection Strata makes to another server (`engine.redis.tls`,
/// `rediss://`): TLS 1.2 or later as in Centrifugo, the server's certificate checked against
/// `server_ca_pem` (else the system's roots) unless `insecure_skip_verify`, and Strata's own
/// certificate when the server asks for one.
enum ClientTLS {
    static func context(_ tls: StrataConfig.ClientTLS, path: String) throws(ServerTLS.SetupError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if !tls.serverCAPEM.isEmpty {
            configuration.trustRoots = .certificates(try ServerTLS.certificates(tls.serverCAPEM, at: path + ".server_ca_pem"))
        }
        if !tls.certPEM.isEmpty {
            configuration.certificateChain = try ServerTLS.certificates(tls.certPEM, at: path + ".cert_pem").map { .certificate($0) }
            configuration.privateKey = .privateKey(try ServerTLS.privateKey(tls.keyPEM, at: path + ".key_pem"))
        }
        if tls.insecureSkipVerify { configuration.certificateVerification = .none }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLS.SetupError(description: "\(path): the certificate and key cannot be used together (\(error))")
        }
    }
}
