import Crypto
import SwiftASN1
import X509

/// The PKCS #10 request that finalizes an order (RFC 8555 §7.4): the names as subject
/// alternative names (the first also as common name), signed by the certificate's key.
enum CertificateRequest {
    static func der(names: [String], key: P256.Signing.PrivateKey) throws -> [UInt8] {
        guard let first = names.first else { throw ACMEError("no host name to ask a certificate for") }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
        }
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(first) }, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes([try .init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        return serializer.serializedBytes
    }
}
