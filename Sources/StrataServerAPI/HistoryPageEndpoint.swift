import Foundation
import HTTPTypes
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// `GET {prefix}/history/{channel}?since=N&epoch=E&limit=L&wait=S&format=json` (docs/history-http.md):
/// a page of the stream over plain HTTP, for backends and HTTP caches. JSON lines by default;
/// the stream's top in `X-Strata-Offset` / `X-Strata-Epoch`; an immutable page (every offset
/// of a named epoch) cacheable for a year, any other for a second; `ETag` and `If-None-Match`.
extension APIEndpoint {
    /// A year: what `immutable` pages are cached for.
    static let immutableMaxAge = 31_536_000

    func historyPage(path: String, headers: APIRequestHeaders) async -> APIReply {
        let (target, query) = QueryString.split(path)
        guard let request = Self.pageRequest(path: target, query: query ?? "", prefixSegments: prefixSegments) else {
            return Self.pageError(.badRequest, status: .badRequest)
        }
        let page: HistoryPage
        do {
            page = try await HistoryPage.read(request, node: api.node)
        } catch {
            return Self.pageError(error, status: Self.status(of: error))
        }
        let asJSON = query.flatMap { QueryString.value(of: "format", in: $0) } == "json"
        var reply: APIReply
        if asJSON {
            guard JSONReplyEncoder.canCarry(page.publications, dataAsString: false) else { return Self.internalServerError }
            reply = .json(.ok, page.json())
        } else {
            reply = APIReply(status: .ok, contentType: "application/x-ndjson", body: page.jsonLines())
        }
        let tag = page.entityTag
        reply.headers = [
            APIHeader("ETag", tag),
            APIHeader("Cache-Control", page.isImmutable ? "public, max-age=\(Self.immutableMaxAge), immutable" : "public, max-age=1"),
            APIHeader("X-Strata-Offset", String(page.top.offset)),
            APIHeader("X-Strata-Epoch", page.top.epoch),
        ]
        if let next = page.next {
            var link = "\(Self.pagePath(prefixSegments, request.channel))?since=\(next.since)&epoch=\(Self.escaped(next.epoch))&limit=\(next.limit)"
            if asJSON { link += "&format=json" }
            reply.headers.append(APIHeader("Link", "<\(link)>; rel=\"next\""))
        }
        if let wanted = headers.ifNoneMatch, wanted.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) {
            reply.status = .notModified
            reply.body = []
            reply.contentType = nil
        }
        return reply
    }

    /// The page request a target names, or nil when it is malformed (a bad number, an empty channel).
    static func pageRequest(path: Substring, query: Substring, prefixSegments: [[UInt8]]) -> HistoryPage.Request? {
        var segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)[...]
        for _ in prefixSegments { _ = segments.popFirst() }
        _ = segments.popFirst()  // "history"
        // The channel is the rest, percent-decoded: `chat:room`, `a%2Fb` or `a/b` alike.
        let raw = segments.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
        guard let channel = raw.removingPercentEncoding, !channel.isEmpty else { return nil }
        var request = HistoryPage.Request(channel: channel)
        func number<T: FixedWidthInteger>(_ name: String) -> T?? {
            guard let text = QueryString.value(of: name, in: query) else { return .some(nil) }
            guard let n = T(text) else { return nil }
            return .some(n)
        }
        guard let since: UInt64? = number("since"), let limit: Int? = number("limit"), let wait: Int64? = number("wait") else { return nil }
        request.since = since ?? 0
        request.epoch = QueryString.value(of: "epoch", in: query) ?? ""
        request.limit = limit ?? HistoryPage.defaultLimit
        request.waitSeconds = wait ?? 0
        guard request.limit > 0, request.waitSeconds >= 0 else { return nil }
        return request
    }

    static func pagePath(_ prefixSegments: [[UInt8]], _ channel: String) -> String {
        let prefix = prefixSegments.map { "/" + String(decoding: $0, as: UTF8.self) }.joined()
        return "\(prefix)/history/\(escaped(channel))"
    }

    static func escaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// HTTP statuses for the page's errors (the body says the code, as the API's errors do).
    static func status(of error: StrataError) -> HTTPResponse.Status {
        switch error.code {
        case StrataError.unknownChannel.code, StrataError.notAvailable.code: .notFound
        case StrataError.unrecoverablePosition.code: .conflict
        case StrataError.badRequest.code: .badRequest
        default: .internalServerError
        }
    }

    static func pageError(_ error: StrataError, status: HTTPResponse.Status) -> APIReply {
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
        w.endObject()
        var reply = APIReply.json(status, w.bytes)
        reply.headers = [APIHeader("Cache-Control", "no-store")]
        return reply
    }
}
