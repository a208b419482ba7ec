import NIOHTTP1

/// The request headers the server API reads (docs/protocol/server-api.md §1), taken out of a request once.
package struct APIRequestHeaders: Sendable, Equatable {
    /// `X-API-Key`.
    package var apiKey: String?
    /// `Authorization` (`apikey KEY`).
    package var authorization: String?
    /// `X-Centrifugo-Error-Mode` (`transport`: errors as HTTP statuses).
    package var errorMode: String?
    /// `If-None-Match` (the history page endpoint answers 304 when it names the page's tag).
    package var ifNoneMatch: String?

    package init(apiKey: String? = nil, authorization: String? = nil, errorMode: String? = nil, ifNoneMatch: String? = nil) {
        self.apiKey = apiKey
        self.authorization = authorization
        self.errorMode = errorMode
        self.ifNoneMatch = ifNoneMatch
    }

    /// These headers of an HTTP/1 request head (names are case-insensitive).
    init(_ headers: HTTPHeaders) {
        self.init(
            apiKey: headers.first(name: "x-api-key"), authorization: headers.first(name: "authorization"),
            errorMode: headers.first(name: "x-centrifugo-error-mode"), ifNoneMatch: headers.first(name: "if-none-match"))
    }
}
