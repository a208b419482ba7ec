import Foundation
import StrataAuth
import StrataConfig
import StrataCore
import StrataHub
import StrataMetrics
import StrataProtocol

/// Why an API call gave no result.
package enum APIFailure: Error, Equatable {
    /// An API error (`{"error":{…}}`).
    case error(StrataError)
    /// The result holds what JSON cannot carry (a binary publication in `history`): Centrifugo's
    /// JSON API answers HTTP 500 for it.
    case unencodable
}

/// The server API methods, independent of HTTP (`APIEndpoint` serves them): each takes the
/// request object and returns the encoded result object, or throws the API error.
package struct ServerAPI: Sendable {
    package let node: Node
    /// `info`'s per-node `metrics` (nil: metrics are off).
    let infoMetrics: NodeInfoMetrics?
    let metrics = APIMetrics()

    package init(node: Node, infoMetrics: NodeInfoMetrics? = nil) {
        self.node = node
        self.infoMetrics = infoMetrics
    }

    package static let methods: [String] = [
        "publish", "broadcast", "subscribe", "unsubscribe", "disconnect", "refresh", "presence", "presence_stats",
        "history", "history_remove", "channels", "info", "rpc", "batch",
    ]

    /// Runs `method` with its (already type-checked) request object: the encoded result
    /// object, or the API error.
    package func call(_ method: String, _ params: JSONValue) async throws(APIFailure) -> [UInt8] {
        let started = ContinuousClock.now
        defer { metrics.duration(method, since: started) }
        let result: [UInt8]?
        do throws(StrataError) {
            result = try await dispatch(method, params)
        } catch {
            metrics.error(method, code: error.code)
            throw .error(error)
        }
        guard let result else { throw .unencodable }
        return result
    }

    /// nil: the result cannot be encoded as JSON (a publication that is not JSON in `history`).
    private func dispatch(_ method: String, _ params: JSONValue) async throws(StrataError) -> [UInt8]? {
        switch method {
        case "publish": return try await publish(params)
        case "broadcast": return try await broadcast(params)
        case "subscribe": return try await subscribe(params)
        case "unsubscribe": return try await unsubscribe(params)
        case "disconnect": return try disconnect(params)
        case "refresh": return try refresh(params)
        case "presence": return try await presence(params)
        case "presence_stats": return try await presenceStats(params)
        case "history": return try await history(params)
        case "history_remove": return try await historyRemove(params)
        case "channels": return try channels(params)
        case "info": return await info()
        case "rpc": return try rpc(params)
        default: throw .apiNotFound
        }
    }

    // MARK: Helpers

    private func field<T>(_ read: () throws(FieldError) -> T) throws(StrataError) -> T {
        do {
            return try read()
        } catch {
            throw .badRequest
        }
    }

    private func requiredChannel(_ p: JSONValue, _ key: String = "channel") throws(StrataError) -> String {
        let channel = try field { () throws(FieldError) in try p.string(key) }
        if channel.isEmpty { throw .badRequest }
        return channel
    }

    /// `data` (JSON, kept byte for byte; `null` too) or `b64data` (binary, wins when set, and
    /// JSON only if it parses as one value), checked against the namespace's format.
    private func payload(_ p: JSONValue, _ options: ChannelOptions) throws(StrataError) -> (data: [UInt8], isJSON: Bool) {
        let b64 = try field { () throws(FieldError) in try p.string("b64data") }
        if !b64.isEmpty {
            guard let data = Data(base64Encoded: b64) else { throw .badRequest }
            let bytes = Array(data)
            let isJSON = JSONParser.isValid(bytes)
            guard options.publicationDataFormat.accepts(bytes, isJSON: isJSON) else { throw .badRequest }
            return (bytes, isJSON)
        }
        let data = p.verbatimJSON("data") ?? []
        guard options.publicationDataFormat.accepts(data, isJSON: true) else { throw .badRequest }
        return (data, true)
    }

    private static func positionResult(_ pos: StreamPosition) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        if pos.offset > 0 { w.key("offset"); w.int(pos.offset) }
        if !pos.epoch.isEmpty { w.key("epoch"); w.string(pos.epoch) }
        w.endObject()
        return w.bytes
    }

    private static let empty: [UInt8] = Array("{}".utf8)

    // MARK: Publishing

    private func publishOptions(_ p: JSONValue) throws(StrataError) -> (PublishOptions, [String: String]) {
        var o = PublishOptions()
        o.skipHistory = try field { () throws(FieldError) in try p.bool("skip_history") }
        let key = try field { () throws(FieldError) in try p.string("idempotency_key") }
        o.idempotencyKey = key.isEmpty ? nil : key
        o.delta = try field { () throws(FieldError) in try p.bool("delta") }
        o.version = try field { () throws(FieldError) in try p.uint64("version") }
        o.versionEpoch = try field { () throws(FieldError) in try p.string("version_epoch") }
        let tags = try field { () throws(FieldError) in try p.stringMap("tags") }
        return (o, tags)
    }

    func publish(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try requiredChannel(p)
        let options = try node.channelOptions(channel)
        let payload = try payload(p, options)
        let (o, tags) = try publishOptions(p)
        let pos = try await node.publish(channel: channel, data: payload.data, isJSON: payload.isJSON, tags: tags, options: o)
        return Self.positionResult(pos)
    }

    func broadcast(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channels = try field { () throws(FieldError) in try p.stringArray("channels") }
        if channels.isEmpty { throw .badRequest }
        let (o, tags) = try publishOptions(p)
        var w = JSONWriter()
        w.beginObject()
        w.key("responses")
        w.beginArray()
        for channel in channels {
            w.element()
            w.beginObject()
            do throws(StrataError) {
                if channel.isEmpty { throw .badRequest }
                let options = try node.channelOptions(channel)
                let payload = try payload(p, options)
                let pos = try await node.publish(channel: channel, data: payload.data, isJSON: payload.isJSON, tags: tags, options: o)
                w.key("result")
                w.raw(Self.positionResult(pos))
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

    // MARK: Connections

    private func targets(_ p: JSONValue) throws(StrataError) -> [ClientSession] {
        let user = try field { () throws(FieldError) in try p.string("user") }
        let client = try field { () throws(FieldError) in try p.string("client") }
        let hasUser = p["user"] != nil
        return node.connections(user: hasUser || client.isEmpty ? user : nil, client: client.isEmpty ? nil : client)
    }

    func subscribe(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try requiredChannel(p)
        _ = try node.channelOptions(channel)
        var since: StreamPosition?
        if let s = try field({ () throws(FieldError) in try p.object("recover_since") }) {
            since = StreamPosition(
                offset: try field { () throws(FieldError) in try s.uint64("offset") },
                epoch: try field { () throws(FieldError) in try s.string("epoch") })
        }
        let expireAt = try field { () throws(FieldError) in try p.int64("expire_at") }
        var override = SubscriptionOverride()
        if let o = try field({ () throws(FieldError) in try p.object("override") }) {
            func flag(_ n: String) -> Bool? { if case .bool(let b)? = o[n]?["value"] { b } else { nil } }
            override.presence = flag("presence")
            override.joinLeave = flag("join_leave")
            override.forcePushJoinLeave = flag("force_push_join_leave")
            override.forcePositioning = flag("force_positioning")
            override.forceRecovery = flag("force_recovery")
        }
        let info = try binaryOrJSON(p, raw: "info", b64: "b64info")
        let data = try binaryOrJSON(p, raw: "data", b64: "b64data")
        for s in try targets(p) {
            try await s.serverSubscribe(
                channel: channel, info: info, data: data, recoverSince: since, expireAt: expireAt > 0 ? expireAt : nil,
                override: override)
        }
        return Self.empty
    }

    private func binaryOrJSON(_ p: JSONValue, raw: String, b64: String) throws(StrataError) -> [UInt8]? {
        let b = try field { () throws(FieldError) in try p.string(b64) }
        if !b.isEmpty {
            guard let d = Data(base64Encoded: b) else { throw .badRequest }
            return Array(d)
        }
        return p.rawJSON(raw)
    }

    func unsubscribe(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try field { () throws(FieldError) in try p.string("channel") }
        if !channel.isEmpty { _ = try node.channelOptions(channel) }
        for s in try targets(p) {
            if channel.isEmpty { continue }
            await s.serverUnsubscribe(channel, .server)
        }
        return Self.empty
    }

    func disconnect(_ p: JSONValue) throws(StrataError) -> [UInt8] {
        let whitelist = Set(try field { () throws(FieldError) in try p.stringArray("whitelist") })
        var d = Disconnect.forceNoReconnect
        if let obj = try field({ () throws(FieldError) in try p.object("disconnect") }) {
            let code = try field { () throws(FieldError) in try obj.uint32("code") }
            let reason = try field { () throws(FieldError) in try obj.string("reason") }
            if code > 0 {
                guard code <= UInt32(UInt16.max) else { throw .badRequest }
                d = Disconnect(code: UInt16(code), reason: reason)
            }
        }
        for s in try targets(p) where !whitelist.contains(s.id) { s.disconnect(d) }
        return Self.empty
    }

    func refresh(_ p: JSONValue) throws(StrataError) -> [UInt8] {
        let expired = try field { () throws(FieldError) in try p.bool("expired") }
        let expireAt = p["expire_at"] == nil ? nil : try field { () throws(FieldError) in try p.int64("expire_at") }
        let info = p.rawJSON("info")
        for s in try targets(p) { s.serverRefresh(expired: expired, expireAt: expireAt, info: info) }
        return Self.empty
    }

    // MARK: Presence and history

    func presence(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try requiredChannel(p)
        var w = JSONWriter()
        JSONReplyEncoder.presence(&w, try await node.presence(channel: channel))
        return w.bytes
    }

    func presenceStats(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try requiredChannel(p)
        let stats = try await node.presenceStats(channel: channel)
        var w = JSONWriter()
        JSONReplyEncoder.presenceStats(&w, numClients: UInt32(stats.numClients), numUsers: UInt32(stats.numUsers))
        return w.bytes
    }

    /// nil when a publication is not JSON: the JSON API cannot return it (Centrifugo answers 500).
    /// Payloads are compacted, as Go's encoder does with the raw JSON it writes.
    func history(_ p: JSONValue) async throws(StrataError) -> [UInt8]? {
        let channel = try requiredChannel(p)
        let limit = try field { () throws(FieldError) in try p.int32("limit") }
        let reverse = try field { () throws(FieldError) in try p.bool("reverse") }
        var since: StreamPosition?
        if let s = try field({ () throws(FieldError) in try p.object("since") }) {
            since = StreamPosition(
                offset: try field { () throws(FieldError) in try s.uint64("offset") },
                epoch: try field { () throws(FieldError) in try s.string("epoch") })
        }
        let compactedView = try field { () throws(FieldError) in try p.bool("compacted") }
        let result: HistoryResult
        do {
            let filter = HistoryFilter(since: since, limit: Int(limit), reverse: reverse)
            result = compactedView ? try await node.keyedHistory(channel: channel, filter: filter) : try await node.history(channel: channel, filter: filter)
        } catch {
            // The API answers only 112 (and the namespace errors) as such; other failures are internal.
            if error == .badRequest { throw .apiInternal }
            throw error
        }
        guard JSONReplyEncoder.canCarry(result.publications, dataAsString: false) else { return nil }
        let compacted = result.publications.map { p in
            var p = p
            p.data = JSONParser.compact(p.data)
            return p
        }
        var w = JSONWriter()
        JSONReplyEncoder.history(&w, publications: compacted, top: result.top)
        return w.bytes
    }

    func historyRemove(_ p: JSONValue) async throws(StrataError) -> [UInt8] {
        let channel = try requiredChannel(p)
        try await node.removeHistory(channel: channel)
        return Self.empty
    }

    func channels(_ p: JSONValue) throws(StrataError) -> [UInt8] {
        let pattern = try field { () throws(FieldError) in try p.string("pattern") }
        var w = JSONWriter()
        w.beginObject()
        w.key("channels")
        w.beginObject()
        for (channel, count) in node.channelCounts().sorted(by: { $0.key < $1.key })
        where pattern.isEmpty || Glob.matches(pattern, channel) {
            w.key(channel)
            w.beginObject()
            if count > 0 { w.key("num_clients"); w.int(count) }
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// Every live node's record: this one's as it is now, the others' as they last announced
    /// them (`NodeRegistry`; with Redis, the nodes sharing it). Records that are not JSON objects
    /// are left out.
    func info() async -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("nodes")
        w.beginArray()
        w.element()
        w.raw(NodeRecord.json(node: node, infoMetrics: infoMetrics))
        for (id, record) in await node.liveNodeRecords().sorted(by: { $0.key < $1.key }) where id != node.nodeID {
            guard case .object? = try? JSONParser.parse(record) else { continue }
            w.element()
            w.raw(record)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    func rpc(_ p: JSONValue) throws(StrataError) -> [UInt8] {
        let method = try field { () throws(FieldError) in try p.string("method") }
        if method.isEmpty { throw .badRequest }
        throw .apiNotFound
    }
}

/// gobwas-style globs for `channels`: `*` any run, `?` one character.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        match(Array(pattern), 0, Array(text), 0)
    }

    private static func match(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int) -> Bool {
        if pi == p.count { return ti == t.count }
        switch p[pi] {
        case "*":
            var k = ti
            while k <= t.count {
                if match(p, pi + 1, t, k) { return true }
                k += 1
            }
            return false
        case "?":
            return ti < t.count && match(p, pi + 1, t, ti + 1)
        default:
            return ti < t.count && t[ti] == p[pi] && match(p, pi + 1, t, ti + 1)
        }
    }
}
