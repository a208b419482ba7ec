import Crypto
import Foundation
import StrataCore

/// The ACME account's P-256 key and the JWS (RFC 7515, flattened JSON) every ACME POST is:
/// ES256 signatures, the key itself as a JWK until the account is known, its URL (`kid`) after.
package struct AccountKey: Sendable {
    package let privateKey: P256.Signing.PrivateKey

    package init(_ privateKey: P256.Signing.PrivateKey = .init()) {
        self.privateKey = privateKey
    }

    /// The public key as a JWK with its members in the order RFC 7638 fixes for the thumbprint
    /// (lexicographic, no spaces): the same text is the `jwk` header and the thumbprint's input.
    package var jwk: String {
        // x963: 0x04 ‖ X ‖ Y, 32 bytes each.
        let point = Array(privateKey.publicKey.x963Representation)
        let x = Base64URL.encode(point[1..<33])
        let y = Base64URL.encode(point[33..<65])
        return #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
    }

    /// RFC 7638 thumbprint: base64url(SHA-256(jwk)).
    package var thumbprint: String {
        Base64URL.encode(SHA256.hash(data: Array(jwk.utf8)))
    }

    /// An HTTP-01 key authorization (RFC 8555 §8.1): what the challenge URL must answer.
    package func keyAuthorization(token: String) -> String {
        token + "." + thumbprint
    }

    /// A signed request body. `payload` nil is POST-as-GET (an empty payload); `kid` nil
    /// embeds the JWK (new-account requests).
    package func sign(payload: [UInt8]?, url: String, nonce: String, kid: String?) throws -> [UInt8] {
        let key = kid.map { #""kid":\#(Self.quoted($0))"# } ?? #""jwk":\#(jwk)"#
        let protected = #"{"alg":"ES256",\#(key),"nonce":\#(Self.quoted(nonce)),"url":\#(Self.quoted(url))}"#
        let protected64 = Base64URL.encode(Array(protected.utf8))
        let payload64 = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try privateKey.signature(for: Array("\(protected64).\(payload64)".utf8))
        let body = #"{"protected":"\#(protected64)","payload":"\#(payload64)","signature":"\#(Base64URL.encode(signature.rawRepresentation))"}"#
        return Array(body.utf8)
    }

    /// A JSON string literal (URLs and nonces are plain ASCII, but a server could send anything).
    static func quoted(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
