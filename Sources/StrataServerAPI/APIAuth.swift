import StrataHTTP

/// Server API key check (docs/protocol/server-api.md §1): `X-API-Key`, then `Authorization: apikey KEY`, then `?api_key=`.
struct APIAuth: Sendable {
    let key: String
    let insecure: Bool

    func allows(headers: APIRequestHeaders, query: Substring?) -> Bool {
        if insecure { return true }
        guard !key.isEmpty else { return false }
        if let header = headers.apiKey {
            return constantTimeEquals(header, key)
        }
        if let auth = headers.authorization {
            let parts = auth.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count == 2, parts[0].lowercased() == "apikey" { return constantTimeEquals(String(parts[1]), key) }
        }
        if let value = query.flatMap(Self.apiKeyParameter) { return constantTimeEquals(value, key) }
        return false
    }

    /// The percent-decoded `api_key` parameter of a query string.
    static func apiKeyParameter(_ query: Substring) -> String? {
        QueryString.value(of: "api_key", in: query)
    }

    private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
