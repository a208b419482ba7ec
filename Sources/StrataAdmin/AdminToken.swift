import Crypto
import Foundation

/// The admin session token: opaque to the UI, which keeps it in `localStorage` and sends it back
/// as `Authorization: token <t>`. Laid out as gorilla/securecookie lays out Centrifugo's —
/// base64url of `timestamp|value|HMAC-SHA256(secret, "token|timestamp|value")` — and valid for
/// 30 days; there is no server-side session, so changing `admin.secret` ends every session.
package struct AdminToken: Sendable {
    package static let maxAgeSeconds: Int64 = 30 * 86_400
    static let maxLength = 4096
    /// The value signed (Centrifugo signs the string "authorized" too).
    static let value = Data("authorized".utf8).base64URLEncoded

    private let key: SymmetricKey

    package init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    package func issue(nowSeconds: Int64) -> String {
        let ts = String(nowSeconds)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("token|\(ts)|\(Self.value)".utf8), using: key)
        return (Data("\(ts)|\(Self.value)|".utf8) + Data(mac)).base64URLEncoded
    }

    /// Whether `token` was issued with this secret less than 30 days ago.
    package func verify(_ token: String, nowSeconds: Int64) -> Bool {
        guard token.utf8.count <= Self.maxLength, let raw = Data(base64URLEncoded: token) else { return false }
        // timestamp | value | mac — the MAC's raw bytes may contain '|' themselves.
        let bar = UInt8(ascii: "|")
        guard let first = raw.firstIndex(of: bar), let second = raw[(first + 1)...].firstIndex(of: bar) else { return false }
        let tsBytes = raw[..<first]
        let valueBytes = raw[(first + 1)..<second]
        let mac = raw[(second + 1)...]
        guard let ts = Int64(String(decoding: tsBytes, as: UTF8.self)),
            String(decoding: valueBytes, as: UTF8.self) == Self.value
        else { return false }
        let signed = Data("token|".utf8) + tsBytes + Data("|".utf8) + valueBytes
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key) else { return false }
        return ts <= nowSeconds + 60 && nowSeconds - ts < Self.maxAgeSeconds
    }
}

extension Data {
    /// URL-safe base64 with padding (Go's `base64.URLEncoding`).
    var base64URLEncoded: String {
        String(base64EncodedString().map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    init?(base64URLEncoded s: String) {
        var text = String(s.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.count % 4 != 0 { text += "=" }
        self.init(base64Encoded: text)
    }
}
