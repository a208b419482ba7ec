import StrataMetrics
import HTTPTypes
import StrataConfig
import StrataHTTP
import StrataCore
import StrataHub
import StrataProtocol

/// What the HTTP server API answers: a status, a content type and a body.
package struct APIReply: Sendable, Equatable {
    package var status: HTTPResponse.Status
    /// nil for an empty body.
    package var contentType: String?
    package var body: [UInt8]
    /// Headers beyond the content type (the history page's caching and position headers).
    package var headers: [APIHeader] = []

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> APIReply {
        APIReply(status: status, contentType: "application/json", body: body)
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> APIReply {
        APIReply(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    static func empty(_ status: HTTPResponse.Status) -> APIReply {
        APIReply(status: status, contentType: nil, body: [])
    }
}

/// One response header.
package struct APIHeader: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// `POST {http_api.handler_prefix}/{method}` (docs/protocol/server-api.md §1) without the HTTP plumbing: which
/// paths are API calls, the API key, JSON in, JSON out, errors in the body (default) or as HTTP
/// statuses (`transport` error mode). `APIChannelHandler` feeds it requests off the wire.
package struct APIEndpoint: Sendable {
    /// Request bodies above this are refused (413) before they are parsed.
    package static let maxBody = 16 * 1024 * 1024

    let api: ServerAPI
    let auth: APIAuth
    /// `http_api.handler_prefix` split at its slashes.
    let prefixSegments: [[UInt8]]
    /// The prefix as one path (`/api`): the older single endpoint.
    let legacyPath: [UInt8]
    let transportErrorsByDefault: Bool

    /// nil when `config` disables the API.
    package init?(node: Node, config: StrataConfig.HTTPAPI, infoMetrics: NodeInfoMetrics? = nil) {
        guard !config.disabled else { return nil }
        api = ServerAPI(node: node, infoMetrics: infoMetrics)
        auth = APIAuth(key: config.key, insecure: config.insecure)
        prefixSegments = config.handlerPrefix.utf8.split(separator: UInt8(ascii: "/")).map(Array.init)
        legacyPath = prefixSegments.reduce(into: []) { path, segment in path += [UInt8(ascii: "/")] + segment }
        transportErrorsByDefault = config.errorMode == "transport"
    }

    /// The API method a request path names (`/api/publish?x=1` → `publish`), `legacyMethod` for
    /// exactly the prefix (`POST /api` with `{"method":…,"params":…}`, as Centrifugo serves it),
    /// or nil when the path is not one of the API's. Empty segments do not count
    /// (`//api/publish/` names `publish`), as with the router the API used to be behind.
    package func method(forPath path: String) -> String? {
        var utf8 = Substring(path).utf8
        if let query = utf8.firstIndex(of: UInt8(ascii: "?")) { utf8 = utf8[..<query] }
        if !prefixSegments.isEmpty, utf8.elementsEqual(legacyPath) { return Self.legacyMethod }
        let slash = UInt8(ascii: "/")
        var segments = utf8.split(separator: slash, omittingEmptySubsequences: true)[...]
        for expected in prefixSegments {
            guard let segment = segments.popFirst(), segment.elementsEqual(expected) else { return nil }
        }
        if segments.count >= 2, let first = segments.first, first.elementsEqual("history".utf8) { return Self.historyPageMethod }
        guard segments.count == 1, let name = segments.first else { return nil }
        return ServerAPI.methods.first { $0.utf8.elementsEqual(name) }
    }

    /// What `method(forPath:)` names `GET {prefix}/history/{channel}` by (HistoryPageEndpoint.swift).
    package static let historyPageMethod = "history/"

    /// What `method(forPath:)` names the single endpoint of Centrifugo's older API by.
    package static let legacyMethod = ""

    /// The query string of a request path, if any (`?api_key=` authenticates too).
    static func query(ofPath path: String) -> Substring? {
        QueryString.split(path).query
    }

    /// The reply to one request for `method` (a name `method(forPath:)` returned); `isPost`: the
    /// request's HTTP method is POST, the only one the API takes.
    package func respond(
        method: String, isPost: Bool, isGet: Bool = false, path: String, headers: APIRequestHeaders, body: [UInt8]
    ) async -> APIReply {
        if method == Self.historyPageMethod {
            guard isGet else { return .empty(.methodNotAllowed) }
            guard auth.allows(headers: headers, query: Self.query(ofPath: path)) else { return .empty(.unauthorized) }
            return await historyPage(path: path, headers: headers)
        }
        guard isPost else { return .empty(.methodNotAllowed) }
        guard auth.allows(headers: headers, query: Self.query(ofPath: path)) else { return .empty(.unauthorized) }
        let transportMode = transportErrorsByDefault || headers.errorMode == "transport"
        if method == Self.legacyMethod { return await legacy(body) }
        // The body is one JSON object; `null` counts as an empty one, as in Go's decoder.
        let params: JSONValue
        do {
            params = try JSONParser.parse(body)
        } catch {
            return Self.badRequest
        }
        switch params {
        case .object, .null: break
        default: return Self.badRequest
        }
        if method == "batch" {
            do throws(APIUndecodable) {
                try APIRequestSchema.checkBatch(params)
            } catch {
                return Self.badRequest
            }
            let started = ContinuousClock.now
            defer { api.metrics.duration("batch", since: started) }
            return .json(.ok, await api.batch(params))
        }
        do throws(APIUndecodable) {
            try APIRequestSchema.check(method, params)
        } catch {
            return Self.badRequest
        }
        return await reply(method, params, transportMode: transportMode)
    }

    /// Centrifugo's older single endpoint: a stream of `{"id":N,"method":M,"params":{…}}`
    /// objects, answered with one `{"id":N,"result":…}` or `{"id":N,"error":…}` line each.
    /// `method` is a name (any case) or the method's number; missing, it is `publish`. An unknown
    /// name (`batch` included), a body that is not such a stream, or an empty one is HTTP 400; an
    /// unknown number is error 104; params of the wrong shape are error 107 (not 400, unlike the
    /// per-method endpoints) — all as Centrifugo v6.9.1 answers.
    private func legacy(_ body: [UInt8]) async -> APIReply {
        await respondLegacy(body)
    }

    /// The older single endpoint's answer to `body`, without the API key (the admin UI's
    /// `admin/api` authorizes with its session token instead).
    package func respondLegacy(_ body: [UInt8]) async -> APIReply {
        guard let commands = try? JSONParser.parseSequence(body), !commands.isEmpty else { return Self.badRequest }
        var calls: [(id: UInt64, method: String?, params: JSONValue)] = []
        for var command in commands {
            // `null` decodes as an empty command (a publish with nothing in it), as in Go.
            if command.isNull { command = .object([]) }
            guard case .object = command else { return Self.badRequest }
            let id: UInt64
            switch command["id"] {
            case nil, .null?: id = 0
            case .number(let text)?:
                guard let n = UInt64(text) else { return Self.badRequest }
                id = n
            default: return Self.badRequest
            }
            var method: String?
            switch command["method"] {
            case nil, .null?: method = "publish"
            case .string(let name)?:
                let lower = name.lowercased()
                guard ServerAPI.methods.contains(lower), lower != "batch" else { return Self.badRequest }
                method = lower
            case .number(let text)?:
                guard let n = Int(text) else { return Self.badRequest }
                method = Self.legacyMethodNumbers.indices.contains(n) ? Self.legacyMethodNumbers[n] : nil
            default: return Self.badRequest
            }
            calls.append((id, method, command["params"] ?? .null))
        }
        var lines: [[UInt8]] = []
        for call in calls {
            var w = JSONWriter()
            w.beginObject()
            if call.id > 0 { w.key("id"); w.int(call.id) }
            var params = call.params
            if params.isNull { params = .object([]) }
            do throws(APIFailure) {
                guard let method = call.method else { throw .error(.apiNotFound) }
                guard case .object = params, (try? APIRequestSchema.check(method, params)) != nil else { throw .error(.badRequest) }
                let result = try await api.call(method, params)
                w.key("result")
                w.raw(result)
            } catch {
                ServerAPI.writeError(&w, error)
            }
            w.endObject()
            lines.append(w.bytes)
        }
        return .json(.ok, Array(lines.joined(separator: [0x0A])))
    }

    /// `"error":{…}` of one command in a batch or a legacy stream (an unencodable result there is
    /// an internal error of that command, not an HTTP 500 for all of them).
    /// The older endpoint's method numbers (Centrifugo's `MethodType` enum).
    static let legacyMethodNumbers = [
        "publish", "broadcast", "unsubscribe", "disconnect", "presence", "presence_stats", "history", "history_remove",
        "channels", "info", "rpc", "subscribe", "refresh",
    ]

    private func reply(_ method: String, _ params: JSONValue, transportMode: Bool) async -> APIReply {
        do throws(APIFailure) {
            let result = try await api.call(method, params)
            var w = JSONWriter(capacity: result.count + 16)
            w.beginObject()
            w.key("result")
            w.raw(result)
            w.endObject()
            return .json(.ok, w.bytes)
        } catch {
            switch error {
            case .error(let e): return Self.errorReply(e, transportMode: transportMode)
            case .unencodable: return Self.internalServerError
            }
        }
    }

    /// Go's `http.Error` bodies, which Centrifugo answers undecodable requests with.
    static let badRequest = APIReply.plain(.badRequest, "Bad Request\n")
    static let internalServerError = APIReply.plain(.internalServerError, "Internal Server Error\n")

    /// A body over the limit: refused without reading the rest.
    static let bodyTooLarge = APIReply.plain(.contentTooLarge, "Request Entity Too Large")

    static func errorReply(_ error: StrataError, transportMode: Bool) -> APIReply {
        var w = JSONWriter()
        if transportMode {
            JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
            let status: HTTPResponse.Status =
                switch error.code {
                case 102, 104: .notFound
                case 107, 108: .badRequest
                case 112: .rangeNotSatisfiable
                case 113: .conflict
                default: .internalServerError
                }
            return .json(status, w.bytes)
        }
        w.beginObject()
        w.key("error")
        JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
        w.endObject()
        return .json(.ok, w.bytes)
    }
}
