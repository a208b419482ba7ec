import StrataHTTP
import StrataCore

/// Server API key check (docs/protocol/server-api.md §1): `X-API-Key`, then `Authorization: apikey KEY`, then `?api_key=`.
struct APIAuth: Sendable {
    let key: String
    let insecure: Bool

    func allows(headers: APIRequestHeaders, query: Substring?) -> Bool {
        if insecure { return true }
        guard !key.isEmpty else { return false }
        if let header = headers.apiKey {
            return ConstantTime.equals(header, key)
        }
        if let auth = headers.authorization, let given = AuthorizationHeader.credential(auth, scheme: "apikey") {
            return ConstantTime.equals(given, key)
        }
        if let value = query.flatMap(Self.apiKeyParameter) { return ConstantTime.equals(value, key) }
        return false
    }

    /// The percent-decoded `api_key` parameter of a query string.
    static func apiKeyParameter(_ query: Substring) -> String? {
        QueryString.value(of: "api_key", in: query)
    }
}
