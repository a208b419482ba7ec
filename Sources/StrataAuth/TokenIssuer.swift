import Crypto
import StrataCore
import StrataProtocol

/// Makes HS256 tokens for `strata gentoken` and tests (any secret length, as Centrifugo allows).
package enum TokenIssuer {
    /// A connection token (or, with `channel`, a subscription token) for `user`, valid `ttlSeconds` (0 = no exp).
    package static func hs256(secret: String, user: String, now: Int64, ttlSeconds: Int64, channel: String? = nil) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("sub")
        w.string(user)
        if ttlSeconds > 0 { w.key("exp"); w.int(now + ttlSeconds) }
        w.key("iat")
        w.int(now)
        if let channel { w.key("channel"); w.string(channel) }
        w.endObject()
        return hs256(secret: secret, payload: w.bytes)
    }

    /// A token carrying `payload` (a JSON object of claims) as it is.
    package static func hs256(secret: String, payload: [UInt8]) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let signingInput = header + "." + Base64URL.encode(payload)
        let signature = HMACCheck.sign256(key: SymmetricKey(data: Array(secret.utf8)), input: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
