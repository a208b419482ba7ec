import Foundation
import HTTPTypes
import Logging
import StrataConfig
import StrataCore
import StrataDelta
import StrataHTTP
import StrataHub
import StrataProtocol
import StrataServerAPI

/// One figure of the status page's history store table.
package enum StoreFigure: Sendable {
    case text(String)
    case number(Int)
}

/// One request to the admin endpoints, without the HTTP server's types.
package struct AdminRequest: Sendable {
    package var method: String
    /// The request target: path and query.
    package var target: String
    package var authorization: String?
    package var contentType: String?
    package var body: [UInt8]
    /// The client's address, for the failed-login limit.
    package var peer: String

    package init(method: String, target: String, authorization: String?, contentType: String?, body: [UInt8], peer: String) {
        self.method = method
        self.target = target
        self.authorization = authorization
        self.contentType = contentType
        self.body = body
        self.peer = peer
    }
}

package struct AdminReply: Sendable, Equatable {
    package var status: Int
    package var contentType: String?
    package var body: [UInt8]
    /// A redirect's target.
    package var location: String?

    static func json(_ status: Int, _ body: [UInt8]) -> AdminReply {
        AdminReply(status: status, contentType: "application/json", body: body, location: nil)
    }

    static func text(_ status: Int, _ text: String) -> AdminReply {
        AdminReply(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8), location: nil)
    }

    static func empty(_ status: Int) -> AdminReply { AdminReply(status: status, contentType: nil, body: [], location: nil) }
}

/// The admin web UI's endpoints under `admin.handler_prefix` (docs/admin.md): Centrifugo's
/// `admin/init`, `admin/auth` and `admin/api` (what its UI calls), Strata's `admin/store` and
/// `admin/history` (the status page's store figures and the history browser), and the UI's
/// files. Everything else under the prefix is 404.
package struct AdminEndpoint: Sendable {
    let config: StrataConfig.Admin
    let node: Node
    /// Runs Centrifugo's single-endpoint API (`admin/api` takes no API key: the token stands for it).
    let api: APIEndpoint
    /// The history store's figures for the status page.
    let storeFigures: @Sendable () -> [(String, StoreFigure)]
    let tokens: AdminToken
    let throttle: LoginThrottle
    let assets: AdminAssets
    let clock: any WallClock

    package init(
        config: StrataConfig.Admin, node: Node, api: APIEndpoint, storeFigures: @escaping @Sendable () -> [(String, StoreFigure)],
        throttle: LoginThrottle = LoginThrottle(), clock: any WallClock = SystemClock()
    ) {
        self.config = config
        self.node = node
        self.api = api
        self.storeFigures = storeFigures
        self.tokens = AdminToken(secret: config.secret)
        self.throttle = throttle
        self.assets = AdminAssets(directory: config.webPath.isEmpty ? nil : config.webPath)
        self.clock = clock
    }

    /// The reply to `request`, or nil when its path is not under the admin prefix.
    package func respond(_ request: AdminRequest) async -> AdminReply? {
        let (fullPath, query) = QueryString.split(request.target)
        guard fullPath.hasPrefix(config.handlerPrefix) else { return nil }
        let path = fullPath.dropFirst(config.handlerPrefix.count)
        guard path.isEmpty || path.hasPrefix("/") else { return nil }
        // The page loads its files relative to itself: `<prefix>` must be `<prefix>/`.
        if path.isEmpty { return AdminReply(status: 301, contentType: nil, body: [], location: config.handlerPrefix + "/") }
        switch path {
        case "/admin/init": return initReply(request)
        case "/admin/auth": return auth(request, query: query)
        case "/admin/api":
            guard request.method == "POST" else { return .empty(405) }
            guard authorized(request) else { return .empty(401) }
            let reply = await api.respondLegacy(request.body)
            return AdminReply(status: Int(reply.status.code), contentType: reply.contentType, body: reply.body, location: nil)
        case "/admin/store":
            guard authorized(request) else { return .empty(401) }
            return .json(200, storeJSON())
        case "/admin/history":
            guard authorized(request) else { return .empty(401) }
            return await history(query: query)
        default:
            guard request.method == "GET" || request.method == "HEAD" else { return .empty(405) }
            // The UI's routes are its own: any other path without a file extension gets the page.
            let file = path.isEmpty || path == "/" ? "index.html" : String(path.dropFirst())
            if let asset = assets.file(file) { return AdminReply(status: 200, contentType: asset.contentType, body: asset.bytes, location: nil) }
            return .text(404, "404 page not found\n")
        }
    }

    // MARK: Centrifugo's endpoints

    private func initReply(_ request: AdminRequest) -> AdminReply {
        var w = JSONWriter()
        w.beginObject()
        w.key("authenticated"); w.bool(config.insecure || authorized(request))
        w.key("edition"); w.string("oss")
        w.key("insecure"); w.bool(config.insecure)
        w.endObject()
        return .json(200, w.bytes + [0x0A])
    }

    private func auth(_ request: AdminRequest, query: Substring?) -> AdminReply {
        guard request.method == "POST" else { return .empty(405) }
        let now = clock.nowMillis()
        guard throttle.allows(request.peer, nowMillis: now) else { return .text(429, "Too Many Requests\n") }
        guard !config.password.isEmpty, !config.secret.isEmpty else { return .text(400, "Bad Request\n") }
        let given = AdminForm.password(body: request.body, contentType: request.contentType, query: query) ?? ""
        guard ConstantTime.equals(given, config.password) else {
            throttle.failed(request.peer, nowMillis: now)
            node.logger.warning("admin login failed", metadata: ["peer": "\(request.peer)"])
            return .text(400, "Bad Request\n")
        }
        throttle.succeeded(request.peer)
        var w = JSONWriter()
        w.beginObject()
        w.key("token"); w.string(tokens.issue(nowSeconds: now / 1000))
        w.endObject()
        return .json(200, w.bytes + [0x0A])
    }

    /// `admin.insecure`, or `Authorization: token <t>` with a token this secret signed.
    private func authorized(_ request: AdminRequest) -> Bool {
        if config.insecure { return true }
        guard !config.secret.isEmpty, let header = request.authorization,
            let token = AuthorizationHeader.credential(header, scheme: "token")
        else { return false }
        return tokens.verify(token, nowSeconds: clock.nowSeconds())
    }

    // MARK: Strata's endpoints

    private func storeJSON() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        for (key, figure) in storeFigures() {
            w.key(key)
            switch figure {
            case .text(let s): w.string(s)
            case .number(let n): w.int(n)
            }
        }
        w.endObject()
        return w.bytes
    }

    /// One page of a channel's history for the browser: `channel`, `since` (offset) with `epoch`,
    /// `limit` (≤ 100, default 20), `reverse`. Each publication with its payload as JSON (or
    /// base64 when it is not JSON), its size, and — where the namespace allows fossil deltas — the
    /// size of the delta from the publication before it.
    private func history(query: Substring?) async -> AdminReply {
        let q = query ?? ""
        let channel = QueryString.value(of: "channel", in: q) ?? ""
        let limit = min(100, max(1, Int(QueryString.value(of: "limit", in: q) ?? "") ?? 20))
        let reverse = QueryString.value(of: "reverse", in: q) == "true"
        let epoch = QueryString.value(of: "epoch", in: q) ?? ""
        let since = QueryString.value(of: "since", in: q).flatMap(UInt64.init)
        let options: ChannelOptions
        do {
            options = try node.channelOptions(channel)
        } catch {
            return .json(200, Self.errorJSON(error))
        }
        let deltas = options.allowedDeltaTypes.contains("fossil") || options.deltaPublish
        // One publication more on the older side, as the base of the first one's delta.
        var filter = HistoryFilter(since: since.map { StreamPosition(offset: $0, epoch: epoch) }, limit: limit, reverse: reverse)
        if deltas, !reverse, let s = since, s > 0 { filter.since = StreamPosition(offset: s - 1, epoch: epoch) }
        if deltas { filter.limit = limit + 1 }
        let result: HistoryResult
        do {
            result = try await node.history(channel: channel, filter: filter)
        } catch {
            return .json(200, Self.errorJSON(error))
        }
        var pubs = result.publications
        var before: [UInt64: [UInt8]] = [:]
        for p in pubs { before[p.offset] = p.data }
        if deltas {
            if reverse {
                if pubs.count > limit { pubs.removeLast() }
            } else if let s = since, s > 0, pubs.first?.offset == s {
                pubs.removeFirst()
            } else if pubs.count > limit {
                pubs.removeLast()
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("channel"); w.string(channel)
        w.key("epoch"); w.string(result.top.epoch)
        w.key("top"); w.int(result.top.offset)
        w.key("delta"); w.bool(deltas)
        w.key("publications")
        w.beginArray()
        for p in pubs {
            w.element()
            w.beginObject()
            w.key("offset"); w.int(p.offset)
            w.key("time"); w.int(p.time)
            w.key("size"); w.int(p.data.count)
            if p.isJSON {
                w.key("data"); w.raw(p.data)
            } else {
                w.key("b64data"); w.string(Data(p.data).base64EncodedString())
            }
            if let info = p.info {
                w.key("client"); w.string(info.client)
                w.key("user"); w.string(info.user)
            }
            if !p.tags.isEmpty {
                w.key("tags")
                w.beginObject()
                for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) { w.key(k); w.string(v) }
                w.endObject()
            }
            if deltas, p.offset > 0, let previous = before[p.offset - 1] {
                w.key("delta_size"); w.int(DeltaEncoder.create(source: previous, target: p.data).count)
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return .json(200, w.bytes)
    }

    /// `{"error":{"code":…,"message":…}}`, as the server API writes errors.
    static func errorJSON(_ e: StrataError) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        JSONReplyEncoder.errorObject(&w, e, includeTemporary: false)
        w.endObject()
        return w.bytes
    }
}
