import Crypto
import Foundation
import SwiftASN1
import NIOSSL
import X509

/// A host's certificate chain and its key, as served and as cached: one PEM text with the key
/// first and then the chain, leaf first (the layout of Go's autocert cache, so a Centrifugo
/// `cache_dir` can be taken over).
package struct HostCertificate: Sendable {
    /// PEM of the chain, leaf first.
    package let chainPEM: String
    /// PEM (PKCS #8) of the leaf's private key.
    package let keyPEM: String
    package let notValidAfter: Date
    package let notValidBefore: Date
    /// The leaf's DNS names.
    package let names: [String]

    /// Reads a PEM text holding one private key and a chain; throws the reason when it is not
    /// usable as such (no key, no certificate, or a leaf whose public key is not the key's).
    package init(pem: String) throws(ACMEError) {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw ACMEError("not PEM (\(error))")
        }
        guard let keyDocument = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) else {
            throw ACMEError("no private key in it")
        }
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }
        guard !certificates.isEmpty else { throw ACMEError("no certificate in it") }
        let key: P256.Signing.PrivateKey
        let leaf: Certificate
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: keyDocument.pemString)
            leaf = try Certificate(pemDocument: certificates[0])
        } catch {
            throw ACMEError("unreadable key or certificate (\(error))")
        }
        guard leaf.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw ACMEError("the certificate is not for the key beside it")
        }
        chainPEM = certificates.map(\.pemString).joined(separator: "\n") + "\n"
        keyPEM = key.pemRepresentation + "\n"
        notValidAfter = leaf.notValidAfter
        notValidBefore = leaf.notValidBefore
        names = ((try? leaf.extensions.subjectAlternativeNames) ?? nil)?.compactMap {
            if case .dnsName(let name) = $0 { name } else { nil }
        } ?? []
    }

    /// A chain from the ACME server with the key it was issued for.
    package init(chainPEM: String, key: P256.Signing.PrivateKey) throws(ACMEError) {
        try self.init(pem: key.pemRepresentation + "\n" + chainPEM)
    }

    /// The chain and key as swift-nio-ssl serves them.
    package func tlsIdentity() throws -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        return (chain, .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
    }

    /// The text cached on disk.
    package var pem: String { keyPEM + chainPEM }

    /// Whether it names `host` (exactly: Strata asks for no wildcards).
    package func covers(_ host: String) -> Bool {
        names.contains { $0.caseInsensitiveCompare(host) == .orderedSame }
    }
}
