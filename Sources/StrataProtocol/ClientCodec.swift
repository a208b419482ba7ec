import StrataCore

/// Which wire format a codec speaks. Publications and other shared pushes keep one encoded frame
/// per kind (`slot`), so a message is encoded at most once per format however many sessions of
/// that format receive it.
package struct CodecKind: Hashable, Sendable, CustomStringConvertible {
    /// The cache slot of this kind: 0 ..< `CodecKind.slots`.
    package let slot: Int
    /// A `StaticString`, so reading a session's kind on every delivery costs no reference count.
    package let name: StaticString

    package init(slot: Int, name: StaticString) {
        precondition((0..<Self.slots).contains(slot), "codec slot out of range")
        self.slot = slot
        self.name = name
    }

    /// How many formats a shared message can hold frames for.
    package static let slots = 5
    package static let json = CodecKind(slot: 0, name: "json")
    package static let protobuf = CodecKind(slot: 1, name: "protobuf")
    /// Bare JSON pushes of the one-way transports (uni_http_stream, uni_websocket).
    package static let unidirectionalJSON = CodecKind(slot: 2, name: "uni-json")
    /// One-way SSE events: bare JSON pushes, publications with an `id:` line.
    package static let unidirectionalSSE = CodecKind(slot: 3, name: "uni-sse")
    /// Bare Protobuf `Push` messages of uni_grpc.
    package static let unidirectionalProtobuf = CodecKind(slot: 4, name: "uni-protobuf")

    /// Whether the client speaks the Protobuf protocol (payloads may be any bytes).
    package var isProtobuf: Bool { self == .protobuf || self == .unidirectionalProtobuf }

    package var description: String { "\(name)" }

    package static func == (a: CodecKind, b: CodecKind) -> Bool { a.slot == b.slot }
    package func hash(into hasher: inout Hasher) { hasher.combine(slot) }
}

/// Commands decoded from one transport message, and the error that stopped decoding, if any.
/// Commands before a malformed one are kept: Centrifugo runs them before failing.
package struct CommandBatch: Sendable {
    package var commands: [Command]
    package var error: (any Error)?

    package init(commands: [Command], error: (any Error)?) {
        self.commands = commands
        self.error = error
    }

    /// A one-way connection's only message: the connect command its session runs (id 1), or
    /// the error that reading it gave.
    package static func oneWayConnect(_ read: () throws -> ConnectRequest) -> CommandBatch {
        do {
            return CommandBatch(commands: [Command(id: 1, request: .connect(try read()))], error: nil)
        } catch {
            return CommandBatch(commands: [], error: error)
        }
    }
}

/// The client protocol's encoding, chosen per connection when it opens (JSON or Protobuf).
/// Sessions and the hub speak in `Command`s, `ReplyResult`s
/// and publications; a codec turns those into the bytes of one message, and transport messages
/// into commands. How messages are put into transport frames stays with the transport.
package protocol ClientCodec: Sendable {
    var kind: CodecKind { get }

    /// The commands of one transport message.
    func decode(_ message: [UInt8]) -> CommandBatch

    func reply(id: UInt32, _ result: ReplyResult) -> [UInt8]
    func error(id: UInt32, _ error: StrataError) -> [UInt8]
    /// The server's ping (the client answers with an empty command).
    var ping: [UInt8] { get }

    /// Whether this codec can carry these publications to a subscriber that negotiated delta
    /// (`delta`) or not: the JSON protocol cannot put a payload that is not JSON into `data`.
    func canCarry(_ publications: [Publication], delta: Bool) -> Bool
    /// A publication push; nil when `canCarry` says no. `delta`: the subscription negotiated
    /// delta compression (the publication's data may itself be a delta, `pub.isDelta`).
    /// `epoch`: sent with the live push of offset 1.
    func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]?
    func joinPush(channel: String, info: ClientInfo) -> [UInt8]
    func leavePush(channel: String, info: ClientInfo) -> [UInt8]
    func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8]
    func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8]
    func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8]
    /// How transports without close frames (HTTP streams, SSE) tell the client why it ends.
    func disconnectPush(_ disconnect: Disconnect) -> [UInt8]
}

/// The JSON client protocol: newline-separated commands in, one JSON object per message out.
/// `form`: pushes inside replies (the bidirectional transports), or bare (the one-way ones,
/// which use it through `UnidirectionalJSONCodec`; it is then its own codec kind).
package struct JSONCodec: ClientCodec {
    package let form: JSONReplyEncoder.PushForm

    package init(form: JSONReplyEncoder.PushForm = .inReply) {
        self.form = form
    }

    package var kind: CodecKind { form == .inReply ? .json : .unidirectionalJSON }

    package func decode(_ message: [UInt8]) -> CommandBatch {
        let out = JSONCommandDecoder.decodeFrame(message)
        return CommandBatch(commands: out.commands, error: out.error)
    }

    package func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] { JSONReplyEncoder.reply(id: id, result: result) }
    package func error(id: UInt32, _ error: StrataError) -> [UInt8] { JSONReplyEncoder.error(id: id, error) }
    package var ping: [UInt8] { JSONReplyEncoder.ping }

    /// Delta subscribers get `data` as a JSON string, which carries any bytes.
    package func canCarry(_ publications: [Publication], delta: Bool) -> Bool {
        JSONReplyEncoder.canCarry(publications, dataAsString: delta)
    }

    package func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        guard delta || pub.publication.isJSON else { return nil }
        return JSONReplyEncoder.publicationPush(channel: channel, pub, dataAsString: delta, epoch: epoch, form: form)
    }

    package func joinPush(channel: String, info: ClientInfo) -> [UInt8] { JSONReplyEncoder.joinPush(channel: channel, info: info, form: form) }
    package func leavePush(channel: String, info: ClientInfo) -> [UInt8] { JSONReplyEncoder.leavePush(channel: channel, info: info, form: form) }
    package func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] {
        JSONReplyEncoder.unsubscribePush(channel: channel, reason, form: form)
    }
    package func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] {
        JSONReplyEncoder.subscribePush(channel: channel, push, form: form)
    }
    package func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] {
        JSONReplyEncoder.refreshPush(expires: expires, ttl: ttl, form: form)
    }
    package func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { JSONReplyEncoder.disconnectPush(disconnect, form: form) }
}
