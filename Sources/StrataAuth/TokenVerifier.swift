import Crypto
import Foundation
import JWTKit
import StrataCore
import StrataProtocol

/// Keys and claim checks for one kind of token (connection or subscription).
package struct TokenKeys: Sendable {
    package var hmacSecretKey = ""
    /// During a secret rotation: HS* tokens signed with this previous secret are still accepted
    /// while `now < hmacPreviousSecretKeyValidUntil` (unix seconds; 0 or past ⇒ not accepted).
    package var hmacPreviousSecretKey = ""
    package var hmacPreviousSecretKeyValidUntil: Int64 = 0
    package var rsaPublicKeyPEM = ""
    package var ecdsaPublicKeyPEM = ""
    package var audience = ""
    package var audienceRegex = ""
    package var issuer = ""
    package var issuerRegex = ""
    package var userIDClaim = ""
    /// Development only: accept any signature.
    package var skipSignatureVerification = false
    /// `jwks_public_endpoint`: when set, every token's key comes from it by `kid`, and the keys
    /// above are not used (as in Centrifugo).
    package var jwks: JWKSKeySet?

    package init() {}
}

/// Verifies JWTs with jwt-kit and reads their claims.
///
/// jwt-kit checks the signature; the algorithm is chosen here from the token header among the
/// configured key families only (so `none`, or an RS256 token when only HMAC is set, is invalid).
/// Claims are then read from the payload bytes with the protocol's JSON parser, so `info` keeps
/// its exact bytes.
package final class TokenVerifier: Sendable {
    private let keys: TokenKeys
    private let collections: [String: JWTKeyCollection]
    private let hmacKey: SymmetricKey?
    private let previousHMACKey: SymmetricKey?
    private let audienceRegex: NSRegularExpression?
    private let issuerRegex: NSRegularExpression?

    package init(keys: TokenKeys) async throws {
        self.keys = keys
        var collections: [String: JWTKeyCollection] = [:]
        // HMAC goes through swift-crypto directly: jwt-kit refuses keys shorter than the hash
        // (an assertion), while Centrifugo accepts any secret and deployments use short ones.
        self.hmacKey = keys.hmacSecretKey.isEmpty ? nil : SymmetricKey(data: Array(keys.hmacSecretKey.utf8))
        self.previousHMACKey =
            keys.hmacPreviousSecretKey.isEmpty || keys.hmacPreviousSecretKeyValidUntil <= 0
            ? nil : SymmetricKey(data: Array(keys.hmacPreviousSecretKey.utf8))
        if !keys.rsaPublicKeyPEM.isEmpty {
            let key = try Insecure.RSA.PublicKey(pem: keys.rsaPublicKeyPEM)
            for (alg, digest) in [("RS256", DigestAlgorithm.sha256), ("RS384", .sha384), ("RS512", .sha512)] {
                collections[alg] = await JWTKeyCollection().add(rsa: key, digestAlgorithm: digest)
            }
        }
        if !keys.ecdsaPublicKeyPEM.isEmpty {
            // The curve fixes the algorithm: P-256 ⇒ ES256, P-384 ⇒ ES384, P-521 ⇒ ES512.
            if let key = try? ES256PublicKey(pem: keys.ecdsaPublicKeyPEM) {
                collections["ES256"] = await JWTKeyCollection().add(ecdsa: key)
            } else if let key = try? ES384PublicKey(pem: keys.ecdsaPublicKeyPEM) {
                collections["ES384"] = await JWTKeyCollection().add(ecdsa: key)
            } else if let key = try? ES512PublicKey(pem: keys.ecdsaPublicKeyPEM) {
                collections["ES512"] = await JWTKeyCollection().add(ecdsa: key)
            } else {
                throw TokenError.invalid("ecdsa_public_key is not a P-256, P-384 or P-521 public key in PEM")
            }
        }
        self.collections = collections
        self.audienceRegex = keys.audienceRegex.isEmpty ? nil : try NSRegularExpression(pattern: keys.audienceRegex)
        self.issuerRegex = keys.issuerRegex.isEmpty ? nil : try NSRegularExpression(pattern: keys.issuerRegex)
    }

    /// Whether any key is configured (without keys every token is invalid).
    package var hasKeys: Bool { keys.jwks != nil || !collections.isEmpty || hmacKey != nil || previousHMACKey != nil }

    package func verifyConnectionToken(_ token: String, now: Int64) async throws(TokenError) -> ConnectionClaims {
        let payload = try await verifiedPayload(token, now: now)
        if payload["channel"] != nil { throw .invalid("connection token must not have a channel claim") }
        var c = ConnectionClaims()
        c.user = try userID(payload)
        c.expiresAt = try optionalInt(payload, "exp")
        c.expireAt = try optionalInt(payload, "expire_at")
        c.info = try info(payload, raw: "info", b64: "b64info")
        c.meta = payload.rawJSON("meta")
        do {
            c.channels = try payload.stringArray("channels")
        } catch {
            throw .invalid("channels: \(error.reason)")
        }
        if let subs = payload["subs"], case .object(let members) = subs {
            for m in members {
                guard case .object = m.value else { throw .invalid("subs.\(m.key) must be an object") }
                var o = TokenSubscribeOptions()
                o.info = try info(m.value, raw: "info", b64: "b64info")
                o.data = try info(m.value, raw: "data", b64: "b64data")
                o.override = try override(m.value)
                c.subs[m.key] = o
            }
        }
        return c
    }

    package func verifySubscriptionToken(_ token: String, now: Int64) async throws(TokenError) -> SubscriptionClaims {
        let payload = try await verifiedPayload(token, now: now)
        var c = SubscriptionClaims()
        c.user = try userID(payload)
        guard case .string(let channel)? = payload["channel"], !channel.isEmpty else {
            throw .invalid("subscription token needs a channel claim")
        }
        c.channel = channel
        if case .string(let client)? = payload["client"] { c.client = client }
        c.expiresAt = try optionalInt(payload, "exp")
        c.expireAt = try optionalInt(payload, "expire_at")
        c.info = try info(payload, raw: "info", b64: "b64info")
        c.data = try info(payload, raw: "data", b64: "b64data")
        c.override = try override(payload)
        return c
    }

    // MARK: Verification

    private func verifiedPayload(_ token: String, now: Int64) async throws(TokenError) -> JSONValue {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .invalid("not a JWT") }
        guard let headerBytes = Base64URL.decode(parts[0]), let header = try? JSONParser.parse(headerBytes),
            case .string(let alg)? = header["alg"]
        else { throw .invalid("bad header") }
        guard let payloadBytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(payloadBytes),
            case .object = payload
        else { throw .invalid("bad payload") }
        if !keys.skipSignatureVerification {
            if let jwks = keys.jwks {
                guard case .string(let kid)? = header["kid"], !kid.isEmpty else { throw .invalid("no kid in the header (keys come from JWKS)") }
                guard let key = await jwks.key(kid) else { throw .invalid("no JWKS key \(kid)") }
                guard key.algorithms.contains(alg) else { throw .invalid("JWKS key \(kid) is not for \(alg)") }
                do {
                    _ = try await key.collection.verify(token, as: SignatureOnly.self)
                } catch {
                    throw .invalid("signature: \(error)")
                }
            } else if alg.hasPrefix("HS") {
                // The previous secret counts only until its valid_until (rotation, config.md).
                let previous = now < keys.hmacPreviousSecretKeyValidUntil ? previousHMACKey : nil
                let candidates = [hmacKey, previous].compactMap { $0 }
                guard !candidates.isEmpty else { throw .invalid("algorithm \(alg) has no configured key") }
                guard let signature = Base64URL.decode(parts[2]) else { throw .invalid("bad signature encoding") }
                let input = Array(token.utf8[..<parts[1].utf8.endIndex])
                guard candidates.contains(where: { HMACCheck.verify(alg: alg, key: $0, input: input, signature: signature) }) else {
                    throw .invalid("signature mismatch")
                }
            } else {
                guard let collection = collections[alg] else { throw .invalid("algorithm \(alg) has no configured key") }
                do {
                    _ = try await collection.verify(token, as: SignatureOnly.self)
                } catch {
                    throw .invalid("signature: \(error)")
                }
            }
        }
        try checkAudienceAndIssuer(payload)
        // Expiry is checked after the signature, and answered differently (109, not 3500).
        if let exp = try optionalInt(payload, "exp"), exp > 0, now >= exp { throw .expired }
        if let nbf = try optionalInt(payload, "nbf"), nbf > 0, now < nbf { throw .expired }
        return payload
    }

    private func checkAudienceAndIssuer(_ payload: JSONValue) throws(TokenError) {
        var audiences: [String] = []
        switch payload["aud"] {
        case .string(let a)?: audiences = [a]
        case .array(let items)?: audiences = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default: break
        }
        if !keys.audience.isEmpty, !audiences.contains(keys.audience) { throw .invalid("audience mismatch") }
        if let re = audienceRegex, !audiences.contains(where: { Self.matches(re, $0) }) { throw .invalid("audience mismatch") }
        var issuer = ""
        if case .string(let s)? = payload["iss"] { issuer = s }
        if !keys.issuer.isEmpty, issuer != keys.issuer { throw .invalid("issuer mismatch") }
        if let re = issuerRegex, !Self.matches(re, issuer) { throw .invalid("issuer mismatch") }
    }

    private static func matches(_ re: NSRegularExpression, _ s: String) -> Bool {
        re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    private func userID(_ payload: JSONValue) throws(TokenError) -> String {
        let claim = keys.userIDClaim.isEmpty ? "sub" : keys.userIDClaim
        switch payload[claim] {
        case nil, .null?: return ""
        case .string(let s)?: return s
        default: throw .invalid("\(claim) must be a string")
        }
    }

    private func optionalInt(_ payload: JSONValue, _ key: String) throws(TokenError) -> Int64? {
        guard let v = payload[key], !v.isNull else { return nil }
        guard case .number(let text) = v else { throw .invalid("\(key) must be a number") }
        if let i = Int64(text) { return i }
        // 1.5e9-style numbers are fine; out-of-range, infinite or NaN values make the token invalid
        // (converting them with Int64(_:) would trap).
        if let d = Double(text), let i = Int64(exactly: d.rounded(.towardZero)) { return i }
        throw .invalid("\(key) must be a number in the int64 range")
    }

    /// `b64info` wins over `info`; bad base64 makes the token unusable.
    private func info(_ v: JSONValue, raw: String, b64: String) throws(TokenError) -> [UInt8]? {
        if case .string(let s)? = v[b64], !s.isEmpty {
            guard let data = Data(base64Encoded: s) else { throw .invalid("\(b64) is not base64") }
            return Array(data)
        }
        return v.rawJSON(raw)
    }

    private func override(_ v: JSONValue) throws(TokenError) -> SubscriptionOverride {
        var o = SubscriptionOverride()
        guard case .object? = v["override"], let ov = v["override"] else { return o }
        func flag(_ name: String) -> Bool? {
            if case .bool(let b)? = ov[name]?["value"] { return b }
            return nil
        }
        o.presence = flag("presence")
        o.joinLeave = flag("join_leave")
        o.forcePushJoinLeave = flag("force_push_join_leave")
        o.forcePositioning = flag("force_positioning")
        o.forceRecovery = flag("force_recovery")
        return o
    }
}

/// jwt-kit needs a payload type; claims are read separately, so this one reads nothing.
struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// HS256/384/512 signatures (RFC 7515) over `header.payload`.
enum HMACCheck {
    static func verify(alg: String, key: SymmetricKey, input: [UInt8], signature: [UInt8]) -> Bool {
        switch alg {
        case "HS256": HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case "HS384": HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case "HS512": HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        default: false
        }
    }

    static func sign256(key: SymmetricKey, input: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: input, using: key))
    }
}
