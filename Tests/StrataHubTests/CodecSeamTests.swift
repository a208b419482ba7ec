import StrataCore
import StrataProtocol
import Testing

@testable import StrataHub

/// A codec of another kind that marks its messages (`T|` + the JSON), counting what it encodes:
/// what a second protocol (Protobuf) will look like to the hub.
final class TaggedCodec: ClientCodec {
    let kind: CodecKind
    private let json = JSONCodec()
    let publicationEncodes = Locked(0)
    let joinEncodes = Locked(0)

    init(slot: Int = 4) {
        kind = CodecKind(slot: slot, name: "tagged")
    }

    static let tag = Array("T|".utf8)
    private func tagged(_ bytes: [UInt8]) -> [UInt8] { Self.tag + bytes }

    func decode(_ message: [UInt8]) -> CommandBatch { json.decode(message) }
    func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] { tagged(json.reply(id: id, result)) }
    func error(id: UInt32, _ error: StrataError) -> [UInt8] { tagged(json.error(id: id, error)) }
    var ping: [UInt8] { tagged(json.ping) }
    func canCarry(_ publications: [Publication], delta: Bool) -> Bool { true }
    func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        publicationEncodes.withLock { $0 += 1 }
        // Binary payloads go as strings here, as a binary-safe protocol would carry them.
        return json.publicationPush(channel: channel, pub, delta: delta || !pub.publication.isJSON, epoch: epoch).map(tagged)
    }
    func joinPush(channel: String, info: ClientInfo) -> [UInt8] {
        joinEncodes.withLock { $0 += 1 }
        return tagged(json.joinPush(channel: channel, info: info))
    }
    func leavePush(channel: String, info: ClientInfo) -> [UInt8] { tagged(json.leavePush(channel: channel, info: info)) }
    func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] { tagged(json.unsubscribePush(channel: channel, reason)) }
    func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] { tagged(json.subscribePush(channel: channel, push)) }
    func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { tagged(json.refreshPush(expires: expires, ttl: ttl)) }
    func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { tagged(json.disconnectPush(disconnect)) }
}

/// JSON codec that counts publication encodes (the kind stays JSON's, so it shares JSON's slot).
final class CountingJSONCodec: ClientCodec {
    private let json = JSONCodec()
    let publicationEncodes = Locked(0)
    var kind: CodecKind { .json }
    func decode(_ message: [UInt8]) -> CommandBatch { json.decode(message) }
    func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] { json.reply(id: id, result) }
    func error(id: UInt32, _ error: StrataError) -> [UInt8] { json.error(id: id, error) }
    var ping: [UInt8] { json.ping }
    func canCarry(_ publications: [Publication], delta: Bool) -> Bool { json.canCarry(publications, delta: delta) }
    func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        publicationEncodes.withLock { $0 += 1 }
        return json.publicationPush(channel: channel, pub, delta: delta, epoch: epoch)
    }
    func joinPush(channel: String, info: ClientInfo) -> [UInt8] { json.joinPush(channel: channel, info: info) }
    func leavePush(channel: String, info: ClientInfo) -> [UInt8] { json.leavePush(channel: channel, info: info) }
    func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] { json.unsubscribePush(channel: channel, reason) }
    func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] { json.subscribePush(channel: channel, push) }
    func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { json.refreshPush(expires: expires, ttl: ttl) }
    func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { json.disconnectPush(disconnect) }
}

/// The codec seam (issue 14, item 1): each session speaks the codec it was opened with, and a
/// publication (or join) is encoded at most once per codec kind, never once per subscriber.
@Suite("Codec per session")
struct CodecSeamTests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1"},
         "channel":{"namespaces":[
           {"name":"chat","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true,
            "presence":true,"join_leave":true,"force_push_join_leave":true},
           {"name":"delta","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true,
            "allowed_delta_types":["fossil"],"delta_publish":true}]}}
        """

    func connected(_ h: SessionHarness, _ codec: any ClientCodec, user: String = "42") async throws -> ClientSession {
        let s = ClientSession(node: h.node, codec: codec)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(h.token(user))"}}"#)
        let reply = try #require(s.queue.takeAll().first)
        if codec is TaggedCodec { try #require(reply.starts(with: TaggedCodec.tag)) }
        return s
    }

    func frames(_ s: ClientSession) -> [String] { s.queue.takeAll().map { String(decoding: $0, as: UTF8.self) } }

    @Test func repliesAndPushesComeFromTheSessionsCodec() async throws {
        let h = try await SessionHarness(config: Self.config)
        let tagged = try await connected(h, TaggedCodec())
        let json = try await connected(h, JSONCodec(), user: "7")
        for s in [tagged, json] { await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:x"}}"#) }
        _ = try await h.publish("chat:x", "hello")
        let t = frames(tagged)
        let j = frames(json)
        #expect(!t.isEmpty && t.allSatisfy { $0.hasPrefix("T|") }, "\(t)")
        #expect(!j.isEmpty && j.allSatisfy { $0.hasPrefix("{") }, "\(j)")
        #expect(t.contains { $0.contains(#""pub":{"data":{"t":"hello"}"#) })
        #expect(j.contains { $0.contains(#""pub":{"data":{"t":"hello"}"#) })
    }

    @Test func aPublicationIsEncodedOncePerCodec() async throws {
        let h = try await SessionHarness(config: Self.config)
        let tagged = TaggedCodec()
        let counting = CountingJSONCodec()
        var sessions: [ClientSession] = []
        for i in 0..<3 { sessions.append(try await connected(h, tagged, user: "t\(i)")) }
        for i in 0..<4 { sessions.append(try await connected(h, counting, user: "j\(i)")) }
        for s in sessions { await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:once"}}"#) }
        for s in sessions { _ = frames(s) }
        // Seven joins were pushed to up to seven subscribers each: one encode per join for the
        // tagged kind (the JSON sessions share JSON's slot), not one per subscriber.
        #expect(tagged.joinEncodes.withLock { $0 } == 7)
        for i in 1...5 { _ = try await h.publish("chat:once", "m\(i)") }
        #expect(tagged.publicationEncodes.withLock { $0 } == 5)
        #expect(counting.publicationEncodes.withLock { $0 } == 5)
        for s in sessions {
            #expect(frames(s).filter { $0.contains(#""pub":"#) }.count == 5)
        }
    }

    /// Delta and plain subscribers of the same codec share the publication's variants: each
    /// variant is encoded once.
    @Test func variantsAreEncodedOnceEach() async throws {
        let h = try await SessionHarness(config: Self.config)
        let counting = CountingJSONCodec()
        let plain = try await connected(h, counting, user: "p")
        let delta = try await connected(h, counting, user: "d")
        let delta2 = try await connected(h, counting, user: "e")
        await h.send(plain, #"{"id":2,"subscribe":{"channel":"delta:v"}}"#)
        for s in [delta, delta2] { await h.send(s, #"{"id":2,"subscribe":{"channel":"delta:v","delta":"fossil"}}"#) }
        for s in [plain, delta, delta2] { _ = frames(s) }
        let text = String(repeating: "a long enough payload for a delta ", count: 4)
        _ = try await h.node.publish(channel: "delta:v", data: Array(#"{"t":"\#(text)1"}"#.utf8))
        #expect(counting.publicationEncodes.withLock { $0 } == 2, "plain + full")
        _ = try await h.node.publish(channel: "delta:v", data: Array(#"{"t":"\#(text)2"}"#.utf8))
        #expect(counting.publicationEncodes.withLock { $0 } == 4, "plain + delta")
        #expect(frames(delta2).last?.contains(#""delta":true"#) == true)
    }
}
