import Crypto
import CryptoExtras
import Foundation
import JWTKit
import StrataAuth
import Testing

// RS256/384/512 and ES256/384/512 tokens (docs/protocol/client-protocol.md §14), signed with swift-crypto keys
// either by jwt-kit (JWTKeyCollection.sign) or by hand, verified through TokenVerifier with the
// public key PEM; plus `hmac_previous_secret_key` rotation. Helpers are private to this file.

private func encode(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

private func signingInput(alg: String, payload: String) -> String {
    encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8)) + "." + encode(Array(payload.utf8))
}

/// `payload` with another claims segment but the original signature.
private func tampered(_ token: String, payload: String) -> String {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    return String(parts[0]) + "." + encode(Array(payload.utf8)) + "." + String(parts[2])
}

private enum Outcome: Equatable {
    case ok(user: String)
    case invalid
    case expired
}

private func connect(_ v: TokenVerifier, _ token: String, now: Int64 = 1_000) async -> Outcome {
    do {
        return .ok(user: try await v.verifyConnectionToken(token, now: now).user)
    } catch {
        switch error {
        case .invalid: return .invalid
        case .expired: return .expired
        }
    }
}

private func verifier(_ configure: (inout TokenKeys) -> Void) async throws -> TokenVerifier {
    var keys = TokenKeys()
    configure(&keys)
    return try await TokenVerifier(keys: keys)
}

/// Claims jwt-kit serialises; TokenVerifier reads them from the payload bytes.
private struct TestClaims: JWTPayload {
    var sub: String
    var exp: Int64?
    var channel: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// RSA key generation is slow; one 2048-bit key serves every RSA test.
private let rsaKey: Result<_RSA.Signing.PrivateKey, any Error> = Result { try _RSA.Signing.PrivateKey(keySize: .bits2048) }

@Suite("TokenVerifier: RSA")
struct TokenRSATests {
    @Test("RS256/384/512 signed by jwt-kit verify with the public key PEM", arguments: [
        DigestAlgorithm.sha256, .sha384, .sha512,
    ])
    func rsaSignedByJWTKit(_ digest: DigestAlgorithm) async throws {
        let key = try rsaKey.get()
        let signer = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: digest)
        let token = try await signer.sign(TestClaims(sub: "42", exp: 2_000))
        let v = try await verifier { $0.rsaPublicKeyPEM = key.publicKey.pemRepresentation }
        #expect(v.hasKeys)
        #expect(await connect(v, token) == .ok(user: "42"))
        #expect(await connect(v, token, now: 2_000) == .expired)
    }

    @Test func rs256SignedByHandVerifies() async throws {
        let key = try rsaKey.get()
        let input = signingInput(alg: "RS256", payload: #"{"sub":"7","channel":"$chat:a","info":{"n":1}}"#)
        let signature = try key.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        let token = input + "." + encode(signature.rawRepresentation)
        let v = try await verifier { $0.rsaPublicKeyPEM = key.publicKey.pemRepresentation }
        let claims = try await v.verifySubscriptionToken(token, now: 1_000)
        #expect(claims.user == "7")
        #expect(claims.channel == "$chat:a")
        #expect(claims.info == Array(#"{"n":1}"#.utf8))
    }

    @Test func tamperedRSATokenIsInvalid() async throws {
        let key = try rsaKey.get()
        let signer = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256)
        let token = try await signer.sign(TestClaims(sub: "42"))
        let v = try await verifier { $0.rsaPublicKeyPEM = key.publicKey.pemRepresentation }
        #expect(await connect(v, token) == .ok(user: "42"))
        #expect(await connect(v, tampered(token, payload: #"{"sub":"admin"}"#)) == .invalid)
    }

    @Test func anotherRSAKeyIsInvalid() async throws {
        let key = try rsaKey.get()
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let signer = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: other), digestAlgorithm: .sha256)
        let token = try await signer.sign(TestClaims(sub: "42"))
        let v = try await verifier { $0.rsaPublicKeyPEM = key.publicKey.pemRepresentation }
        #expect(await connect(v, token) == .invalid)
    }

    @Test func rs256WithOnlyAnHMACSecretIsInvalid() async throws {
        let key = try rsaKey.get()
        let signer = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256)
        let token = try await signer.sign(TestClaims(sub: "42"))
        let v = try await verifier { $0.hmacSecretKey = "secret" }
        #expect(await connect(v, token) == .invalid)
        // Nor does an RSA public key make HS256 tokens signed with its PEM text valid.
        let pem = key.publicKey.pemRepresentation
        let input = signingInput(alg: "HS256", payload: #"{"sub":"42"}"#)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(pem.utf8)))
        let confused = try await verifier { $0.rsaPublicKeyPEM = pem }
        #expect(await connect(confused, input + "." + encode(mac)) == .invalid)
    }

    @Test func rsaPublicKeyThatIsNotPEMFailsInit() async {
        await #expect(throws: (any Error).self) {
            _ = try await verifier { $0.rsaPublicKeyPEM = "not a key" }
        }
    }
}

@Suite("TokenVerifier: ECDSA")
struct TokenECDSATests {
    @Test func es256SignedByJWTKit() async throws {
        let key = P256.Signing.PrivateKey()
        let signer = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(backing: key))
        let token = try await signer.sign(TestClaims(sub: "42", exp: 2_000, channel: "$chat:x"))
        let v = try await verifier { $0.ecdsaPublicKeyPEM = key.publicKey.pemRepresentation }
        let claims = try await v.verifySubscriptionToken(token, now: 1_000)
        #expect(claims.user == "42")
        #expect(claims.channel == "$chat:x")
        #expect(claims.expiresAt == 2_000)
        #expect(await connect(v, tampered(token, payload: #"{"sub":"admin"}"#)) == .invalid)
    }

    @Test func es256SignedByHandWithRawSignature() async throws {
        let key = P256.Signing.PrivateKey()
        let input = signingInput(alg: "ES256", payload: #"{"sub":"9","exp":1500}"#)
        let token = input + "." + encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
        let v = try await verifier { $0.ecdsaPublicKeyPEM = key.publicKey.pemRepresentation }
        #expect(await connect(v, token) == .ok(user: "9"))
        #expect(await connect(v, token, now: 1_500) == .expired)
        // A DER-encoded signature is not what JWS (RFC 7518 §3.4) carries.
        let der = input + "." + encode(try key.signature(for: Array(input.utf8)).derRepresentation)
        #expect(await connect(v, der) == .invalid)
    }

    @Test func es384SignedByJWTKitAndByHand() async throws {
        let key = P384.Signing.PrivateKey()
        let v = try await verifier { $0.ecdsaPublicKeyPEM = key.publicKey.pemRepresentation }
        let signer = await JWTKeyCollection().add(ecdsa: try ES384PrivateKey(backing: key))
        #expect(await connect(v, try await signer.sign(TestClaims(sub: "384"))) == .ok(user: "384"))
        let input = signingInput(alg: "ES384", payload: #"{"sub":"h"}"#)
        let token = input + "." + encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
        #expect(await connect(v, token) == .ok(user: "h"))
        #expect(await connect(v, tampered(token, payload: #"{"sub":"x"}"#)) == .invalid)
    }

    @Test func es512WithP521Key() async throws {
        let key = P521.Signing.PrivateKey()
        let v = try await verifier { $0.ecdsaPublicKeyPEM = key.publicKey.pemRepresentation }
        let signer = await JWTKeyCollection().add(ecdsa: try ES512PrivateKey(backing: key))
        #expect(await connect(v, try await signer.sign(TestClaims(sub: "521"))) == .ok(user: "521"))
    }

    @Test func curveFixesTheAlgorithm() async throws {
        // A P-256 key configured: an ES384 token (another curve) is invalid, as is ES256 from another key.
        let configured = P256.Signing.PrivateKey()
        let v = try await verifier { $0.ecdsaPublicKeyPEM = configured.publicKey.pemRepresentation }
        let p384 = await JWTKeyCollection().add(ecdsa: try ES384PrivateKey(backing: P384.Signing.PrivateKey()))
        #expect(await connect(v, try await p384.sign(TestClaims(sub: "1"))) == .invalid)
        let stranger = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(backing: P256.Signing.PrivateKey()))
        #expect(await connect(v, try await stranger.sign(TestClaims(sub: "1"))) == .invalid)
    }

    @Test func es256WithOnlyAnHMACSecretIsInvalid() async throws {
        let key = P256.Signing.PrivateKey()
        let signer = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(backing: key))
        let v = try await verifier { $0.hmacSecretKey = "secret" }
        #expect(await connect(v, try await signer.sign(TestClaims(sub: "42"))) == .invalid)
    }

    @Test func hmacAndAsymmetricKeysTogether() async throws {
        let ec = P256.Signing.PrivateKey()
        let rsa = try rsaKey.get()
        let v = try await verifier {
            $0.hmacSecretKey = "secret"
            $0.ecdsaPublicKeyPEM = ec.publicKey.pemRepresentation
            $0.rsaPublicKeyPEM = rsa.publicKey.pemRepresentation
        }
        let es = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(backing: ec))
        let rs = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(backing: rsa), digestAlgorithm: .sha256)
        #expect(await connect(v, try await es.sign(TestClaims(sub: "e"))) == .ok(user: "e"))
        #expect(await connect(v, try await rs.sign(TestClaims(sub: "r"))) == .ok(user: "r"))
        #expect(await connect(v, TokenIssuer.hs256(secret: "secret", user: "h", now: 1_000, ttlSeconds: 60)) == .ok(user: "h"))
    }

    @Test func ecdsaPublicKeyThatIsNotPEMFailsInit() async {
        await #expect(throws: (any Error).self) {
            _ = try await verifier { $0.ecdsaPublicKeyPEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }
        }
    }
}

@Suite("TokenVerifier: HMAC secret rotation")
struct TokenHMACRotationTests {
    static let validUntil: Int64 = 5_000

    func rotating() async throws -> TokenVerifier {
        try await verifier {
            $0.hmacSecretKey = "new"
            $0.hmacPreviousSecretKey = "old"
            $0.hmacPreviousSecretKeyValidUntil = Self.validUntil
        }
    }

    @Test func previousSecretIsAcceptedUntilValidUntil() async throws {
        let v = try await rotating()
        let old = TokenIssuer.hs256(secret: "old", user: "42", now: 1_000, ttlSeconds: 0)
        #expect(await connect(v, old, now: 1_000) == .ok(user: "42"))
        #expect(await connect(v, old, now: Self.validUntil - 1) == .ok(user: "42"))
        #expect(await connect(v, old, now: Self.validUntil) == .invalid)
        #expect(await connect(v, old, now: Self.validUntil + 3600) == .invalid)
    }

    @Test func currentSecretWorksBeforeAndAfterValidUntil() async throws {
        let v = try await rotating()
        let new = TokenIssuer.hs256(secret: "new", user: "42", now: 1_000, ttlSeconds: 0)
        #expect(await connect(v, new, now: 1_000) == .ok(user: "42"))
        #expect(await connect(v, new, now: Self.validUntil + 3600) == .ok(user: "42"))
    }

    @Test func otherSecretsStayInvalid() async throws {
        let v = try await rotating()
        #expect(await connect(v, TokenIssuer.hs256(secret: "older", user: "42", now: 1_000, ttlSeconds: 0)) == .invalid)
        let old = TokenIssuer.hs256(secret: "old", user: "42", now: 1_000, ttlSeconds: 0)
        #expect(await connect(v, tampered(old, payload: #"{"sub":"admin"}"#)) == .invalid)
    }

    @Test("HS384 and HS512 rotate too", arguments: ["HS384", "HS512"])
    func otherHMACFamilies(_ alg: String) async throws {
        let v = try await rotating()
        let input = signingInput(alg: alg, payload: #"{"sub":"5"}"#)
        let key = SymmetricKey(data: Array("old".utf8))
        let mac: [UInt8] =
            alg == "HS384"
            ? Array(HMAC<SHA384>.authenticationCode(for: Array(input.utf8), using: key))
            : Array(HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: key))
        #expect(await connect(v, input + "." + encode(mac), now: 1_000) == .ok(user: "5"))
        #expect(await connect(v, input + "." + encode(mac), now: Self.validUntil) == .invalid)
    }

    @Test func previousSecretWithoutValidUntilIsNeverAccepted() async throws {
        let v = try await verifier {
            $0.hmacSecretKey = "new"
            $0.hmacPreviousSecretKey = "old"
        }
        #expect(await connect(v, TokenIssuer.hs256(secret: "old", user: "42", now: 1_000, ttlSeconds: 0)) == .invalid)
    }

    @Test func previousSecretAloneDuringRotation() async throws {
        let v = try await verifier {
            $0.hmacPreviousSecretKey = "old"
            $0.hmacPreviousSecretKeyValidUntil = Self.validUntil
        }
        #expect(v.hasKeys)
        let old = TokenIssuer.hs256(secret: "old", user: "42", now: 1_000, ttlSeconds: 0)
        #expect(await connect(v, old, now: 1_000) == .ok(user: "42"))
        #expect(await connect(v, old, now: Self.validUntil) == .invalid)
    }

    @Test func subscriptionTokensRotateToo() async throws {
        let v = try await rotating()
        let old = TokenIssuer.hs256(secret: "old", user: "42", now: 1_000, ttlSeconds: 0, channel: "$chat:r")
        #expect(try await v.verifySubscriptionToken(old, now: 1_000).channel == "$chat:r")
        await #expect(throws: TokenError.self) { _ = try await v.verifySubscriptionToken(old, now: Self.validUntil) }
    }
}

@Suite("TokenVerifier: out-of-range numeric claims")
struct TokenNumericRangeTests {
    private func hs256(_ payload: String) -> String {
        let input = signingInput(alg: "HS256", payload: payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array("secret".utf8)))
        return input + "." + encode(mac)
    }

    @Test("exp/nbf/expire_at outside int64 are invalid, not a crash", arguments: [
        #"{"sub":"1","exp":1e20}"#, #"{"sub":"1","exp":-1e20}"#, #"{"sub":"1","nbf":1e300}"#,
        #"{"sub":"1","expire_at":9223372036854775808}"#, #"{"sub":"1","exp":1e999}"#,
    ])
    func outOfRange(_ payload: String) async throws {
        let v = try await verifier { $0.hmacSecretKey = "secret" }
        #expect(await connect(v, hs256(payload)) == .invalid)
    }

    @Test func fractionalAndExponentNumbersInRangeAreRead() async throws {
        let v = try await verifier { $0.hmacSecretKey = "secret" }
        let claims = try await v.verifyConnectionToken(hs256(#"{"sub":"1","exp":2.5e3,"expire_at":3000.9}"#), now: 1_000)
        #expect(claims.expiresAt == 2_500)
        #expect(claims.expireAt == 3_000)
    }

    @Test func farSubscriptionExpiryIsCappedToFitAUInt32TTL() async throws {
        let v = try await verifier { $0.hmacSecretKey = "secret" }
        let far = try await v.verifySubscriptionToken(
            hs256(#"{"sub":"1","channel":"c","expire_at":9223372036854775807}"#), now: 1_000)
        #expect(far.expireAt == Int64.max)
        #expect(far.subscriptionExpiry == SubscriptionClaims.maxExpiry)
        let near = try await v.verifySubscriptionToken(hs256(#"{"sub":"1","channel":"c","exp":4294967294}"#), now: 1_000)
        #expect(near.subscriptionExpiry == 4_294_967_294)
    }
}
