import Crypto
import Foundation
import StrataAuth

/// Base64url without padding, written independently of the module under test.
func b64url(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func b64url(_ s: String) -> String { b64url(Array(s.utf8)) }

/// A hand-built HMAC JWT: `payload` is used verbatim (byte for byte) as the claims segment.
func hmacToken(payload: String, secret: String, alg: String = "HS256", header: String? = nil) -> String {
    let h = header ?? #"{"alg":"\#(alg)","typ":"JWT"}"#
    let input = b64url(h) + "." + b64url(payload)
    let key = SymmetricKey(data: Array(secret.utf8))
    let data = Array(input.utf8)
    let mac: [UInt8] =
        switch alg {
        case "HS384": Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case "HS512": Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        default: Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        }
    return input + "." + b64url(mac)
}

/// A hand-built ES256 JWT signed with swift-crypto (raw r‖s signature, as JWS requires).
func es256Token(payload: String, key: P256.Signing.PrivateKey) throws -> String {
    let input = b64url(#"{"alg":"ES256","typ":"JWT"}"#) + "." + b64url(payload)
    let signature = try key.signature(for: Data(input.utf8))
    return input + "." + b64url(signature.rawRepresentation)
}

func hmacKeys(_ secret: String = "secret", configure: (inout TokenKeys) -> Void = { _ in }) -> TokenKeys {
    var k = TokenKeys()
    k.hmacSecretKey = secret
    configure(&k)
    return k
}

/// What a verification ended in, for compact expectations.
enum Verdict: Equatable {
    case ok
    case invalid
    case expired
}

func verdict<T>(_ body: () async throws(TokenError) -> T) async -> Verdict {
    do {
        _ = try await body()
        return .ok
    } catch {
        switch error {
        case .invalid: return .invalid
        case .expired: return .expired
        }
    }
}

func connectVerdict(_ v: TokenVerifier, _ token: String, now: Int64 = 1_000) async -> Verdict {
    await verdict { () async throws(TokenError) in try await v.verifyConnectionToken(token, now: now) }
}

func subscriptionVerdict(_ v: TokenVerifier, _ token: String, now: Int64 = 1_000) async -> Verdict {
    await verdict { () async throws(TokenError) in try await v.verifySubscriptionToken(token, now: now) }
}
