import StrataCore

/// The one-way transports' JSON (transports.md §5.1): the client's only message is a bare
/// `ConnectRequest`; the server writes bare `Push` objects, no `Reply` around them: first the
/// connect push, then `{"channel":…,"pub":{…}}` and the like, pings as `{}`.
package struct UnidirectionalJSONCodec: ClientCodec {
    /// The JSON protocol's encoders with bare pushes.
    private let json = JSONCodec(form: .bare)

    package init() {}

    package var kind: CodecKind { .unidirectionalJSON }

    /// The connect request, as the connect command the session runs; `null` is `{}`.
    package func decode(_ message: [UInt8]) -> CommandBatch {
        .oneWayConnect { try Self.connectRequest(message) }
    }

    /// A bare `ConnectRequest` (every field optional, unknown keys ignored, `null` as `{}`).
    package static func connectRequest(_ bytes: [UInt8]) throws -> ConnectRequest {
        let root = try JSONParser.parse(bytes)
        if root.isNull { return ConnectRequest() }
        guard case .object = root else { throw FieldError(field: "connect", reason: "expected object") }
        return try JSONCommandDecoder.connect(root)
    }

    /// The connect result is the connect push; a one-way connection has no other replies, and
    /// its session turns errors into disconnects, so the rest is never written.
    package func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] {
        if case .connect(let r) = result { return JSONReplyEncoder.connectPush(r) }
        return json.reply(id: id, result)
    }

    package func error(id: UInt32, _ error: StrataError) -> [UInt8] { json.error(id: id, error) }
    package var ping: [UInt8] { json.ping }

    package func canCarry(_ publications: [Publication], delta: Bool) -> Bool { json.canCarry(publications, delta: delta) }

    package func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        json.publicationPush(channel: channel, pub, delta: delta, epoch: epoch)
    }
    package func joinPush(channel: String, info: ClientInfo) -> [UInt8] { json.joinPush(channel: channel, info: info) }
    package func leavePush(channel: String, info: ClientInfo) -> [UInt8] { json.leavePush(channel: channel, info: info) }
    package func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] { json.unsubscribePush(channel: channel, reason) }
    package func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] { json.subscribePush(channel: channel, push) }
    package func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { json.refreshPush(expires: expires, ttl: ttl) }
    package func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { json.disconnectPush(disconnect) }
}

/// One-way SSE (`uni_sse`): the one-way JSON pushes, each message one event's lines (the
/// transport adds the empty line that ends an event). A publication's event has an `id:` with
/// its stream position, `<offset>:<epoch>:<channel>` (the channel percent-encoded), so a plain
/// `EventSource` that reconnects sends it back as `Last-Event-ID` and gets what it missed
/// (docs/transports.md, "One-way SSE that recovers").
///
/// `lastEventID`: the id a reconnecting `EventSource` sent. Its channel is recovered from that
/// position (unless the connect request names a position for it itself), and the connect push's
/// recovered publications then go as their own events after it, with ids, because such a client
/// reads publication events only.
package struct UnidirectionalSSECodec: ClientCodec {
    private let json = UnidirectionalJSONCodec()
    private let lastEventID: SSEEventID?

    package init(lastEventID: SSEEventID? = nil) {
        self.lastEventID = lastEventID
    }

    package var kind: CodecKind { .unidirectionalSSE }

    package func decode(_ message: [UInt8]) -> CommandBatch {
        var batch = json.decode(message)
        guard let id = lastEventID, let first = batch.commands.first, case .connect(var request) = first.request else { return batch }
        if request.subs[id.channel] == nil {
            var sub = SubscribeRequest()
            sub.channel = id.channel
            sub.recover = true
            sub.epoch = id.epoch
            sub.offset = id.offset
            request.subs[id.channel] = sub
        }
        batch.commands[0].request = .connect(request)
        return batch
    }

    private var recoveredAsEvents: Bool { lastEventID != nil }

    package func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] {
        guard case .connect(var r) = result, recoveredAsEvents else { return Self.event(json.reply(id: id, result)) }
        var events: [[UInt8]] = []
        for (i, (channel, sub)) in r.subs.enumerated() where !sub.publications.isEmpty {
            for var p in sub.publications {
                p.streamEpoch = sub.epoch
                if let e = publicationPush(channel: channel, p, delta: false, epoch: "") { events.append(e) }
            }
            r.subs[i].result.publications = []
        }
        return Array(([Self.event(json.reply(id: id, .connect(r)))] + events).joined(separator: Self.eventEnd))
    }

    package func error(id: UInt32, _ error: StrataError) -> [UInt8] { Self.event(json.error(id: id, error)) }
    package var ping: [UInt8] { Self.event(json.ping) }

    package func canCarry(_ publications: [Publication], delta: Bool) -> Bool { json.canCarry(publications, delta: delta) }

    package func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        guard let push = json.publicationPush(channel: channel, pub, delta: delta, epoch: epoch) else { return nil }
        guard pub.publication.offset > 0 else { return Self.event(push) }
        let id = SSEEventID(channel: channel, epoch: pub.streamEpoch, offset: pub.publication.offset)
        return Array("id: \(id.text)\n".utf8) + Self.event(push)
    }
    package func joinPush(channel: String, info: ClientInfo) -> [UInt8] { Self.event(json.joinPush(channel: channel, info: info)) }
    package func leavePush(channel: String, info: ClientInfo) -> [UInt8] { Self.event(json.leavePush(channel: channel, info: info)) }
    package func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] {
        Self.event(json.unsubscribePush(channel: channel, reason))
    }
    package func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] { Self.event(json.subscribePush(channel: channel, push)) }
    package func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { Self.event(json.refreshPush(expires: expires, ttl: ttl)) }
    package func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { Self.event(json.disconnectPush(disconnect)) }

    static let dataPrefix = Array("data: ".utf8)
    /// Between two events in one message: the end of the first (the transport ends the last).
    static let eventEnd = Array("\n\n".utf8)

    static func event(_ message: [UInt8]) -> [UInt8] { dataPrefix + message }
}

/// A one-way SSE publication's event id: where it is in its stream, `<offset>:<epoch>:<channel>`
/// with the channel percent-encoded (an id must not hold a newline, and the epoch and channel
/// must come back apart).
package struct SSEEventID: Hashable, Sendable {
    package var channel: String
    package var epoch: String
    package var offset: UInt64

    package init(channel: String, epoch: String, offset: UInt64) {
        self.channel = channel
        self.epoch = epoch
        self.offset = offset
    }

    package var text: String {
        "\(offset):\(Self.escape(epoch)):\(Self.escape(channel))"
    }

    /// Reads an id back (`Last-Event-ID`); nil for anything that is not one of ours.
    package init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let offset = UInt64(parts[0]), let epoch = Self.unescape(parts[1]),
            let channel = Self.unescape(parts[2]), !channel.isEmpty
        else { return nil }
        self.init(channel: channel, epoch: epoch, offset: offset)
    }

    /// Everything but unreserved characters as %XX, so `:` and line breaks cannot appear.
    static func escape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "#"), UInt8(ascii: "$"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func unescape(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let end = s.utf8.endIndex
        while i < end {
            let b = s.utf8[i]
            if b == UInt8(ascii: "%") {
                let h = s.utf8.index(after: i)
                guard h < end, s.utf8.index(after: h) < end,
                    let v = UInt8(String(s[h...s.utf8.index(after: h)]), radix: 16)
                else { return nil }
                bytes.append(v)
                i = s.utf8.index(h, offsetBy: 2)
            } else {
                if b == UInt8(ascii: ":") { return nil }
                bytes.append(b)
                i = s.utf8.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
