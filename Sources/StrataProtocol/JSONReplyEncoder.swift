import StrataCore

/// Encodes replies and pushes as Centrifugo's JSON protocol does: field names in proto order,
/// false/0/""/empty omitted except the fields the protocol always sends (docs/protocol/client-protocol.md §3).
package enum JSONReplyEncoder {
    /// The server ping: an empty reply.
    package static let ping: [UInt8] = Array("{}".utf8)

    package static func reply(id: UInt32, result: ReplyResult) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id")
        w.int(id)
        switch result {
        case .connect(let r):
            w.key("connect")
            connect(&w, r)
        case .subscribe(let r):
            w.key("subscribe")
            subscribe(&w, r)
        case .unsubscribe:
            w.key("unsubscribe")
            w.raw(Array("{}".utf8))
        case .publish:
            w.key("publish")
            w.raw(Array("{}".utf8))
        case .presence(let clients):
            w.key("presence")
            presence(&w, clients)
        case .presenceStats(let numClients, let numUsers):
            w.key("presence_stats")
            presenceStats(&w, numClients: numClients, numUsers: numUsers)
        case .history(let pubs, let top):
            w.key("history")
            history(&w, publications: pubs, top: top)
        case .rpc(let data):
            w.key("rpc")
            w.beginObject()
            if let data, !data.isEmpty {
                w.key("data")
                w.raw(data)
            }
            w.endObject()
        case .refresh(let expires, let ttl):
            w.key("refresh")
            expiring(&w, expires: expires, ttl: ttl)
        case .subRefresh(let expires, let ttl):
            w.key("sub_refresh")
            expiring(&w, expires: expires, ttl: ttl)
        }
        w.endObject()
        return w.bytes
    }

    package static func error(id: UInt32, _ error: StrataError) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id")
        w.int(id)
        w.key("error")
        errorObject(&w, error)
        w.endObject()
        return w.bytes
    }

    package static func errorObject(_ w: inout JSONWriter, _ error: StrataError, includeTemporary: Bool = true) {
        w.beginObject()
        w.key("code")
        w.int(error.code)
        w.key("message")
        w.string(error.message)
        if includeTemporary && error.temporary {
            w.key("temporary")
            w.bool(true)
        }
        w.endObject()
    }

    // MARK: Pushes

    /// How a push is written: inside a reply, `{"push":{…}}` (the bidirectional transports), or
    /// bare, `{…}` (the one-way transports, which have no replies).
    package enum PushForm: Sendable {
        case inReply
        case bare
    }

    /// `{"push":{"channel":…,"pub":{…}}}`, encoded once per publication and shared by subscribers.
    package static func publicationPush(
        channel: String, _ pub: WirePublication, dataAsString: Bool, epoch: String = "", form: PushForm = .inReply
    ) -> [UInt8] {
        var w = JSONWriter(capacity: pub.publication.data.count + 64 + channel.utf8.count)
        pushStart(&w, channel: channel, form)
        w.key("pub")
        publication(&w, pub.publication, isDelta: pub.isDelta, dataAsString: dataAsString, includeInfo: true, epoch: epoch)
        pushEnd(&w, form)
        return w.bytes
    }

    package static func joinPush(channel: String, info: ClientInfo, form: PushForm = .inReply) -> [UInt8] {
        infoPush(channel: channel, kind: "join", info: info, form)
    }

    package static func leavePush(channel: String, info: ClientInfo, form: PushForm = .inReply) -> [UInt8] {
        infoPush(channel: channel, kind: "leave", info: info, form)
    }

    private static func infoPush(channel: String, kind: StaticString, info: ClientInfo, _ form: PushForm) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: channel, form)
        w.key(kind)
        w.beginObject()
        w.key("info")
        clientInfo(&w, info)
        w.endObject()
        pushEnd(&w, form)
        return w.bytes
    }

    /// Unsubscribe pushes always carry both code and reason: centrifuge-python indexes both.
    package static func unsubscribePush(channel: String, _ u: Unsubscribe, form: PushForm = .inReply) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: channel, form)
        w.key("unsubscribe")
        codeAndReason(&w, code: u.code, reason: u.reason)
        pushEnd(&w, form)
        return w.bytes
    }

    package static func subscribePush(channel: String, _ s: SubscribePush, form: PushForm = .inReply) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: channel, form)
        w.key("subscribe")
        w.beginObject()
        if s.recoverable { w.key("recoverable"); w.bool(true) }
        if !s.epoch.isEmpty { w.key("epoch"); w.string(s.epoch) }
        if s.offset > 0 { w.key("offset"); w.int(s.offset) }
        if s.positioned { w.key("positioned"); w.bool(true) }
        if let d = s.data, !d.isEmpty { w.key("data"); w.raw(d) }
        w.endObject()
        pushEnd(&w, form)
        return w.bytes
    }

    /// The server refreshed the connection (server API `refresh`): its new expiry, or `{}` when
    /// it no longer expires.
    package static func refreshPush(expires: Bool, ttl: UInt32, form: PushForm = .inReply) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: nil, form)
        w.key("refresh")
        expiring(&w, expires: expires, ttl: ttl)
        pushEnd(&w, form)
        return w.bytes
    }

    /// `{"push":{"disconnect":{"code":…,"reason":"…"}}}`: how an HTTP stream ends a connection.
    package static func disconnectPush(_ d: Disconnect, form: PushForm = .inReply) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: nil, form)
        w.key("disconnect")
        codeAndReason(&w, code: d.code, reason: d.reason)
        pushEnd(&w, form)
        return w.bytes
    }

    package static func messagePush(data: [UInt8]) -> [UInt8] {
        var w = JSONWriter()
        pushStart(&w, channel: nil, .inReply)
        w.key("message")
        w.beginObject()
        w.key("data")
        w.raw(data)
        w.endObject()
        pushEnd(&w, .inReply)
        return w.bytes
    }

    private static func codeAndReason(_ w: inout JSONWriter, code: some BinaryInteger, reason: String) {
        w.beginObject()
        w.key("code")
        w.int(code)
        w.key("reason")
        w.string(reason)
        w.endObject()
    }

    /// Opens the push object (inside `{"push":` unless bare), with its channel when it has one.
    private static func pushStart(_ w: inout JSONWriter, channel: String?, _ form: PushForm) {
        w.beginObject()
        if form == .inReply {
            w.key("push")
            w.beginObject()
        }
        if let channel {
            w.key("channel")
            w.string(channel)
        }
    }

    private static func pushEnd(_ w: inout JSONWriter, _ form: PushForm) {
        w.endObject()
        if form == .inReply { w.endObject() }
    }

    // MARK: Bodies

    /// A connect result. A reply's `ConnectResult` has `expires`/`ttl` before `data`/`subs`; the
    /// one-way connect push (`Connect`) has them after (`expiryFirst` false), as Centrifugo writes.
    static func connect(_ w: inout JSONWriter, _ r: ConnectResult, expiryFirst: Bool = true) {
        func expiry() {
            if r.expires { w.key("expires"); w.bool(true) }
            if r.ttl > 0 { w.key("ttl"); w.int(r.ttl) }
        }
        w.beginObject()
        if !r.client.isEmpty { w.key("client"); w.string(r.client) }
        if !r.version.isEmpty { w.key("version"); w.string(r.version) }
        if expiryFirst { expiry() }
        if let d = r.data, !d.isEmpty { w.key("data"); w.raw(d) }
        if !r.subs.isEmpty {
            w.key("subs")
            w.beginObject()
            for (channel, sub) in r.subs {
                w.key(channel)
                subscribe(&w, sub)
            }
            w.endObject()
        }
        if !expiryFirst { expiry() }
        if r.ping > 0 { w.key("ping"); w.int(r.ping) }
        if r.pong { w.key("pong"); w.bool(true) }
        if !r.session.isEmpty { w.key("session"); w.string(r.session) }
        if !r.node.isEmpty { w.key("node"); w.string(r.node) }
        if r.time > 0 { w.key("time"); w.int(r.time) }
        w.endObject()
    }

    /// The one-way transports' connect push, `{"connect":{…}}`.
    package static func connectPush(_ r: ConnectResult) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("connect")
        connect(&w, r, expiryFirst: false)
        w.endObject()
        return w.bytes
    }

    static func subscribe(_ w: inout JSONWriter, _ r: SubscribeResult) {
        w.beginObject()
        if r.expires { w.key("expires"); w.bool(true) }
        if r.ttl > 0 { w.key("ttl"); w.int(r.ttl) }
        if r.recoverable { w.key("recoverable"); w.bool(true) }
        if !r.epoch.isEmpty { w.key("epoch"); w.string(r.epoch) }
        if !r.publications.isEmpty {
            w.key("publications")
            w.beginArray()
            for p in r.publications {
                w.element()
                publication(&w, p.publication, isDelta: p.isDelta, dataAsString: r.delta, includeInfo: true)
            }
            w.endArray()
        }
        if r.recovered { w.key("recovered"); w.bool(true) }
        if r.offset > 0 { w.key("offset"); w.int(r.offset) }
        if r.positioned { w.key("positioned"); w.bool(true) }
        if let d = r.data, !d.isEmpty { w.key("data"); w.raw(d) }
        if r.wasRecovering { w.key("was_recovering"); w.bool(true) }
        if r.delta { w.key("delta"); w.bool(true) }
        if !r.recoveryFailure.isEmpty { w.key("recovery_failure"); w.string(r.recoveryFailure) }
        w.endObject()
    }

    package static func presence(_ w: inout JSONWriter, _ clients: [ClientInfo]) {
        w.beginObject()
        w.key("presence")
        w.beginObject()
        for c in clients {
            w.key(c.client)
            clientInfo(&w, c)
        }
        w.endObject()
        w.endObject()
    }

    package static func presenceStats(_ w: inout JSONWriter, numClients: UInt32, numUsers: UInt32) {
        w.beginObject()
        w.key("num_clients")
        w.int(numClients)
        w.key("num_users")
        w.int(numUsers)
        w.endObject()
    }

    /// History results always carry publications (maybe empty), epoch and offset.
    package static func history(_ w: inout JSONWriter, publications: [Publication], top: StreamPosition) {
        w.beginObject()
        w.key("publications")
        w.beginArray()
        for p in publications {
            w.element()
            publication(&w, p, isDelta: false, dataAsString: false, includeInfo: true)
        }
        w.endArray()
        w.key("epoch")
        w.string(top.epoch)
        w.key("offset")
        w.int(top.offset)
        w.endObject()
    }

    static func expiring(_ w: inout JSONWriter, expires: Bool, ttl: UInt32) {
        w.beginObject()
        if expires { w.key("expires"); w.bool(true) }
        if ttl > 0 { w.key("ttl"); w.int(ttl) }
        w.endObject()
    }

    /// `epoch` is sent only on a live push of offset 1, so a subscriber learns the stream's
    /// epoch with its first publication (Centrifugo does this on every engine).
    /// A payload that is not JSON (`Publication.isJSON`) can only go as a string (`dataAsString`):
    /// callers check `canCarry` first and end JSON connections that would need it (3506).
    package static func publication(
        _ w: inout JSONWriter, _ p: Publication, isDelta: Bool, dataAsString: Bool, includeInfo: Bool, epoch: String = ""
    ) {
        w.beginObject()
        w.key("data")
        if dataAsString {
            w.string(bytes: p.data)
        } else if p.data.isEmpty {
            w.null()
        } else {
            w.payload(p.data)
        }
        if includeInfo, let info = p.info {
            w.key("info")
            clientInfo(&w, info)
        }
        if p.offset > 0 { w.key("offset"); w.int(p.offset) }
        if !p.tags.isEmpty {
            w.key("tags")
            w.beginObject()
            for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) {
                w.key(k)
                w.string(v)
            }
            w.endObject()
        }
        if isDelta { w.key("delta"); w.bool(true) }
        if !epoch.isEmpty { w.key("epoch"); w.string(epoch) }
        w.endObject()
    }

    /// Whether JSON frames can carry these publications (with `data` as JSON, not as a string).
    package static func canCarry(_ publications: some Sequence<Publication>, dataAsString: Bool) -> Bool {
        dataAsString || publications.allSatisfy(\.isJSON)
    }

    package static func clientInfo(_ w: inout JSONWriter, _ info: ClientInfo) {
        w.beginObject()
        w.key("user")
        w.string(info.user)
        w.key("client")
        w.string(info.client)
        if let c = info.connInfo, !c.isEmpty { w.key("conn_info"); w.raw(c) }
        if let c = info.chanInfo, !c.isEmpty { w.key("chan_info"); w.raw(c) }
        w.endObject()
    }
}
