import HTTPTypes
import StrataConfig
import StrataCore
import StrataHub
import StrataProtocol

/// What the HTTP server API answers: a status, a content type and a body.
public struct APIReply: Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// nil for an empty body.
    public var contentType: String?
    public var body: [UInt8]

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

/// `POST {http_api.handler_prefix}/{method}` (server-api.md §1) without the HTTP plumbing: which
/// paths are API calls, the API key, JSON in, JSON out, errors in the body (default) or as HTTP
/// statuses (`transport` error mode). `APIChannelHandler` feeds it requests off the wire.
public struct APIEndpoint: Sendable {
    /// Request bodies above this are refused (413) before they are parsed.
    public static let maxBody = 16 * 1024 * 1024

    let api: ServerAPI
    let auth: APIAuth
    /// `http_api.handler_prefix` split at its slashes.
    let prefixSegments: [[UInt8]]
    let transportErrorsByDefault: Bool

    /// nil when the HTTP API is disabled.
    public init?(node: Node) {
        let config = node.config.httpAPI
        guard !config.disabled else { return nil }
        api = ServerAPI(node: node)
        auth = APIAuth(key: config.key, insecure: config.insecure)
        prefixSegments = config.handlerPrefix.utf8.split(separator: UInt8(ascii: "/")).map(Array.init)
        transportErrorsByDefault = config.errorMode == "transport"
    }

    /// The API method a request path names (`/api/publish?x=1` → `publish`), or nil when the path
    /// is not one of the API's. Empty segments do not count (`//api/publish/` names `publish`),
    /// as with the router the API used to be behind.
    public func method(forPath path: String) -> String? {
        var utf8 = Substring(path).utf8
        if let query = utf8.firstIndex(of: UInt8(ascii: "?")) { utf8 = utf8[..<query] }
        let slash = UInt8(ascii: "/")
        var segments = utf8.split(separator: slash, omittingEmptySubsequences: true)[...]
        for expected in prefixSegments {
            guard let segment = segments.popFirst(), segment.elementsEqual(expected) else { return nil }
        }
        guard segments.count == 1, let name = segments.first else { return nil }
        return ServerAPI.methods.first { $0.utf8.elementsEqual(name) }
    }

    /// The query string of a request path, if any (`?api_key=` authenticates too).
    static func query(ofPath path: String) -> Substring? {
        guard let mark = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return path[path.utf8.index(after: mark)...]
    }

    /// The reply to one request for `method` (a name `method(forPath:)` returned); `isPost`: the
    /// request's HTTP method is POST, the only one the API takes.
    public func respond(method: String, isPost: Bool, path: String, headers: APIRequestHeaders, body: [UInt8]) async -> APIReply {
        guard isPost else { return .empty(.methodNotAllowed) }
        guard auth.allows(headers: headers, query: Self.query(ofPath: path)) else { return .empty(.unauthorized) }
        let transportMode = transportErrorsByDefault || headers.errorMode == "transport"
        let params: JSONValue
        do {
            params = try JSONParser.parse(body)
            guard case .object = params else { return .plain(.badRequest, "Bad Request") }
        } catch {
            return .plain(.badRequest, "Bad Request")
        }
        if method == "batch" { return .json(.ok, await batch(params)) }
        do throws(StrataError) {
            let result = try await api.call(method, params)
            var w = JSONWriter(capacity: result.count + 16)
            w.beginObject()
            w.key("result")
            w.raw(result)
            w.endObject()
            return .json(.ok, w.bytes)
        } catch {
            return Self.errorReply(error, transportMode: transportMode)
        }
    }

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

    /// `{"commands":[{"publish":{…}},…]}` ⇒ `{"replies":[{"publish":{…}},{"error":{…}}]}`.
    func batch(_ params: JSONValue) async -> [UInt8] {
        var commands: [JSONValue] = []
        if case .array(let items)? = params["commands"] { commands = items }
        var w = JSONWriter()
        w.beginObject()
        w.key("replies")
        w.beginArray()
        for command in commands {
            w.element()
            w.beginObject()
            do throws(StrataError) {
                guard case .object(let members) = command, let first = members.first else { throw .badRequest }
                guard ServerAPI.methods.contains(first.key), first.key != "batch" else { throw .apiNotFound }
                guard case .object = first.value else { throw .badRequest }
                let result = try await api.call(first.key, first.value)
                w.key(first.key)
                w.raw(result)
            } catch {
                w.key("error")
                JSONReplyEncoder.errorObject(&w, error, includeTemporary: false)
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
