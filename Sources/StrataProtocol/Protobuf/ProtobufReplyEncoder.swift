import Foundation
import StrataCore
import SwiftProtobuf

/// Encodes replies and pushes as `client.proto` messages (one `Reply` each; a push is a `Reply`
/// with only `push` set, or with `bare` the `Push` alone, as uni_grpc sends it). Zero values are omitted as proto3 does; an empty result (publish,
/// unsubscribe) is a present zero-length message, which is how clients recognise success.
package enum ProtobufReplyEncoder {
    package static func reply(id: UInt32, result: ReplyResult) -> [UInt8] {
        var r = PB.Reply()
        r.id = id
        switch result {
        case .connect(let c): r.connect = connect(c)
        case .subscribe(let s): r.subscribe = subscribe(s)
        case .unsubscribe: r.unsubscribe = .init()
        case .publish: r.publish = .init()
        case .presence(let clients):
            var p = PB.PresenceResult()
            for c in clients { p.presence[c.client] = clientInfo(c) }
            r.presence = p
        case .presenceStats(let numClients, let numUsers):
            var s = PB.PresenceStatsResult()
            s.numClients = numClients
            s.numUsers = numUsers
            r.presenceStats = s
        case .history(let publications, let top):
            var h = PB.HistoryResult()
            h.publications = publications.map { publication($0, isDelta: false) }
            h.epoch = top.epoch
            h.offset = top.offset
            r.history = h
        case .rpc(let data):
            var rpc = PB.RPCResult()
            if let data { rpc.data = Data(data) }
            r.rpc = rpc
        case .refresh(let expires, let ttl):
            var refresh = PB.RefreshResult()
            refresh.expires = expires
            refresh.ttl = ttl
            r.refresh = refresh
        case .subRefresh(let expires, let ttl):
            var refresh = PB.SubRefreshResult()
            refresh.expires = expires
            refresh.ttl = ttl
            r.subRefresh = refresh
        }
        return bytes(r)
    }

    package static func error(id: UInt32, _ error: StrataError) -> [UInt8] {
        var r = PB.Reply()
        r.id = id
        var e = PB.Error()
        e.code = error.code
        e.message = error.message
        e.temporary = error.temporary
        r.error = e
        return bytes(r)
    }

    // MARK: Pushes

    /// Encoded once per publication and shared by the subscribers of this protocol. `data` is
    /// carried as bytes, a delta as the delta's bytes with `delta` set.
    package static func publicationPush(channel: String, _ pub: WirePublication, epoch: String, bare: Bool = false) -> [UInt8] {
        var p = publication(pub.publication, isDelta: pub.isDelta)
        p.epoch = epoch
        return push(channel: channel, bare: bare) { $0.pub = p }
    }

    package static func joinPush(channel: String, info: ClientInfo, bare: Bool = false) -> [UInt8] {
        var join = PB.Join()
        join.info = clientInfo(info)
        return push(channel: channel, bare: bare) { $0.join = join }
    }

    package static func leavePush(channel: String, info: ClientInfo, bare: Bool = false) -> [UInt8] {
        var leave = PB.Leave()
        leave.info = clientInfo(info)
        return push(channel: channel, bare: bare) { $0.leave = leave }
    }

    package static func unsubscribePush(channel: String, _ u: Unsubscribe, bare: Bool = false) -> [UInt8] {
        var unsubscribe = PB.Unsubscribe()
        unsubscribe.code = u.code
        unsubscribe.reason = u.reason
        return push(channel: channel, bare: bare) { $0.unsubscribe = unsubscribe }
    }

    package static func subscribePush(channel: String, _ s: SubscribePush, bare: Bool = false) -> [UInt8] {
        var subscribe = PB.Subscribe()
        subscribe.recoverable = s.recoverable
        subscribe.epoch = s.epoch
        subscribe.offset = s.offset
        subscribe.positioned = s.positioned
        if let d = s.data { subscribe.data = Data(d) }
        return push(channel: channel, bare: bare) { $0.subscribe = subscribe }
    }

    package static func refreshPush(expires: Bool, ttl: UInt32, bare: Bool = false) -> [UInt8] {
        var refresh = PB.Refresh()
        refresh.expires = expires
        refresh.ttl = ttl
        return push(channel: "", bare: bare) { $0.refresh = refresh }
    }

    package static func disconnectPush(_ d: Disconnect, bare: Bool = false) -> [UInt8] {
        var disconnect = PB.Disconnect()
        disconnect.code = UInt32(d.code)
        disconnect.reason = d.reason
        return push(channel: "", bare: bare) { $0.disconnect = disconnect }
    }

    /// A one-way connection's first push: the connect result as a `Connect` push.
    package static func connectPush(_ c: ConnectResult) -> [UInt8] {
        let r = connect(c)
        var connect = PB.Connect()
        connect.client = r.client
        connect.version = r.version
        connect.data = r.data
        connect.subs = r.subs
        connect.expires = r.expires
        connect.ttl = r.ttl
        connect.ping = r.ping
        connect.pong = r.pong
        connect.session = r.session
        connect.node = r.node
        connect.time = r.time
        return push(channel: "", bare: true) { $0.connect = connect }
    }

    private static func push(channel: String, bare: Bool, _ fill: (inout PB.Push) -> Void) -> [UInt8] {
        var p = PB.Push()
        p.channel = channel
        fill(&p)
        if bare { return bytes(p) }
        var r = PB.Reply()
        r.push = p
        return bytes(r)
    }

    // MARK: Bodies

    static func connect(_ c: ConnectResult) -> PB.ConnectResult {
        var r = PB.ConnectResult()
        r.client = c.client
        r.version = c.version
        r.expires = c.expires
        r.ttl = c.ttl
        if let d = c.data { r.data = Data(d) }
        for (channel, sub) in c.subs { r.subs[channel] = subscribe(sub) }
        r.ping = c.ping
        r.pong = c.pong
        r.session = c.session
        r.node = c.node
        r.time = c.time
        return r
    }

    static func subscribe(_ s: SubscribeResult) -> PB.SubscribeResult {
        var r = PB.SubscribeResult()
        r.expires = s.expires
        r.ttl = s.ttl
        r.recoverable = s.recoverable
        r.epoch = s.epoch
        r.publications = s.publications.map { publication($0.publication, isDelta: $0.isDelta) }
        r.recovered = s.recovered
        r.offset = s.offset
        r.positioned = s.positioned
        if let d = s.data { r.data = Data(d) }
        r.wasRecovering = s.wasRecovering
        r.delta = s.delta
        if !s.recoveryFailure.isEmpty { r.unknownFields = recoveryFailureField(s.recoveryFailure) }
        return r
    }

    /// Field number of Strata's `recovery_failure` in `SubscribeResult` (a string): far above
    /// the numbers client.proto uses, so it cannot collide with a field Centrifugo adds.
    static let recoveryFailureFieldNumber: UInt64 = 1001

    /// The field as unknown fields of the generated message (it is not in client.proto, which
    /// stays Centrifugo's): the wire bytes are parsed into a blank message, whose unknown
    /// fields then carry them into the encoding.
    static func recoveryFailureField(_ reason: String) -> SwiftProtobuf.UnknownStorage {
        var bytes: [UInt8] = []
        VarintFraming.appendLength(Int(recoveryFailureFieldNumber << 3 | 2), to: &bytes)  // the tag: field 1001, bytes
        let text = Array(reason.utf8)
        VarintFraming.appendLength(text.count, to: &bytes)
        bytes += text
        return (try? PB.SubscribeResult(serializedBytes: bytes))?.unknownFields ?? SwiftProtobuf.UnknownStorage()
    }

    static func publication(_ p: Publication, isDelta: Bool) -> PB.Publication {
        var r = PB.Publication()
        r.data = Data(p.data)
        if let info = p.info { r.info = clientInfo(info) }
        r.offset = p.offset
        r.tags = p.tags
        r.delta = isDelta
        return r
    }

    static func clientInfo(_ info: ClientInfo) -> PB.ClientInfo {
        var r = PB.ClientInfo()
        r.user = info.user
        r.client = info.client
        if let c = info.connInfo { r.connInfo = Data(c) }
        if let c = info.chanInfo { r.chanInfo = Data(c) }
        return r
    }

    /// Serialising a proto3 message cannot fail (it has no required fields to miss), so there
    /// is no error to pass on.
    static func bytes(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        (try? message.serializedBytes()) ?? []
    }
}
