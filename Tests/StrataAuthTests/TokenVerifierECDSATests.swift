import Crypto
import Foundation
import JWTKit
import Testing
import StrataAuth

/// Claims signed through jwt-kit (plain Codable fields, so the JSON is predictable).
private struct TestClaims: JWTPayload {
    var sub: String
    var exp: Int
    var info: [String: String]?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

private func ecdsaVerifier(_ publicKey: P256.Signing.PublicKey, hmac: String = "") async throws -> TokenVerifier {
    var keys = TokenKeys()
    keys.ecdsaPublicKeyPEM = publicKey.pemRepresentation
    keys.hmacSecretKey = hmac
    return try await TokenVerifier(keys: keys)
}

@Suite("TokenVerifier: ECDSA")
struct TokenVerifierECDSATests {
    @Test func es256SignedWithJWTKitVerifies() async throws {
        let key = P256.Signing.PrivateKey()
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: try ES256PrivateKey(backing: key))
        let token = try await signer.sign(TestClaims(sub: "ec-user", exp: 5_000, info: ["role": "admin"]))

        let v = try await ecdsaVerifier(key.publicKey)
        #expect(v.hasKeys)
        let claims = try await v.verifyConnectionToken(token, now: 1_000)
        #expect(claims.user == "ec-user")
        #expect(claims.expiresAt == 5_000)
        #expect(claims.info == Array(#"{"role":"admin"}"#.utf8))
        #expect(await connectVerdict(v, token, now: 5_000) == .expired)
    }

    @Test func es256SignedByHandVerifies() async throws {
        let key = P256.Signing.PrivateKey()
        let v = try await ecdsaVerifier(key.publicKey)
        let token = try es256Token(payload: #"{"sub":"hand","channel":"$c","info":{"k": "v"}}"#, key: key)
        let claims = try await v.verifySubscriptionToken(token, now: 1_000)
        #expect(claims.user == "hand")
        #expect(claims.channel == "$c")
        #expect(claims.info == Array(#"{"k":"v"}"#.utf8))
        // The same token is not a valid connection token (it has a channel).
        #expect(await connectVerdict(v, token) == .invalid)
    }

    @Test func tokenFromAnotherKeyIsInvalid() async throws {
        let v = try await ecdsaVerifier(P256.Signing.PrivateKey().publicKey)
        let token = try es256Token(payload: #"{"sub":"1"}"#, key: P256.Signing.PrivateKey())
        #expect(await connectVerdict(v, token) == .invalid)
    }

    @Test func tamperedES256PayloadIsInvalid() async throws {
        let key = P256.Signing.PrivateKey()
        let v = try await ecdsaVerifier(key.publicKey)
        let parts = try es256Token(payload: #"{"sub":"1"}"#, key: key).split(separator: ".").map(String.init)
        #expect(await connectVerdict(v, parts[0] + "." + b64url(#"{"sub":"2"}"#) + "." + parts[2]) == .invalid)
    }

    @Test func hmacTokenWithOnlyAnECDSAKeyIsInvalid() async throws {
        let key = P256.Signing.PrivateKey()
        let pem = key.publicKey.pemRepresentation
        let v = try await ecdsaVerifier(key.publicKey)
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1"}"#, secret: "secret")) == .invalid)
        // Algorithm confusion: HMAC keyed with the public PEM must not pass either.
        #expect(await connectVerdict(v, hmacToken(payload: #"{"sub":"1"}"#, secret: pem)) == .invalid)
        #expect(await connectVerdict(v, TokenIssuer.hs256(secret: pem, user: "1", now: 1_000, ttlSeconds: 60)) == .invalid)
    }

    @Test func es256TokenWithOnlyAnHMACKeyIsInvalid() async throws {
        let v = try await TokenVerifier(keys: hmacKeys())
        let token = try es256Token(payload: #"{"sub":"1"}"#, key: P256.Signing.PrivateKey())
        #expect(await connectVerdict(v, token) == .invalid)
    }

    @Test func bothKeyFamiliesCanBeConfigured() async throws {
        let key = P256.Signing.PrivateKey()
        let v = try await ecdsaVerifier(key.publicKey, hmac: "secret")
        #expect(await connectVerdict(v, try es256Token(payload: #"{"sub":"1"}"#, key: key)) == .ok)
        #expect(await connectVerdict(v, TokenIssuer.hs256(secret: "secret", user: "1", now: 1_000, ttlSeconds: 60)) == .ok)
        #expect(await connectVerdict(v, TokenIssuer.hs256(secret: "nope", user: "1", now: 1_000, ttlSeconds: 60)) == .invalid)
    }

    @Test func es384KeyRejectsAnES256LabelledToken() async throws {
        let key384 = P384.Signing.PrivateKey()
        var keys = TokenKeys()
        keys.ecdsaPublicKeyPEM = key384.publicKey.pemRepresentation
        let v = try await TokenVerifier(keys: keys)
        // An ES256 token has no key when only a P-384 key is configured.
        #expect(await connectVerdict(v, try es256Token(payload: #"{"sub":"1"}"#, key: P256.Signing.PrivateKey())) == .invalid)
        // A proper ES384 token verifies.
        let input = b64url(#"{"alg":"ES384","typ":"JWT"}"#) + "." + b64url(#"{"sub":"384"}"#)
        let sig = try key384.signature(for: Array(input.utf8))
        let claims = try await v.verifyConnectionToken(input + "." + b64url(sig.rawRepresentation), now: 1_000)
        #expect(claims.user == "384")
    }

    @Test func invalidPEMFailsInit() async {
        var keys = TokenKeys()
        keys.ecdsaPublicKeyPEM = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"
        await #expect(throws: TokenError.self) { _ = try await TokenVerifier(keys: keys) }
    }
}
