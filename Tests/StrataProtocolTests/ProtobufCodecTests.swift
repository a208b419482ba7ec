import Foundation
import StrataCore
import StrataTesting
import SwiftProtobuf
import Testing

@testable import StrataProtocol

/// The Protobuf codec against the byte examples of the transports spec (§3.3, §4.1) and the
/// decoding rules of §2.3. Framing (the varint prefixes) is the transport's; these tests frame
/// with `VarintFraming.join` where the spec shows whole WebSocket messages.
@Suite("Protobuf codec")
struct ProtobufCodecTests {
    let codec = ProtobufCodec()

    func hex(_ s: String) -> [UInt8] {
        s.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    @Test func specConnectCommand() throws {
        let batch = codec.decode(hex("09 08 01 22 05 0a 03 61 62 63"))
        #expect(batch.error == nil)
        let command = try #require(batch.commands.first)
        #expect(command.id == 1)
        guard case .connect(let c) = command.request else { Issue.record("not a connect: \(command.request)"); return }
        #expect(c.token == "abc")
        #expect(c.data == nil)
    }

    @Test func specReplies() {
        #expect(VarintFraming.join([codec.reply(id: 3, .publish)]) == hex("04 08 03 42 00"))
        #expect(VarintFraming.join([codec.reply(id: 4, .unsubscribe)]) == hex("04 08 04 3a 00"))
        #expect(VarintFraming.join([codec.reply(id: 3, .publish), codec.ping]) == hex("04 08 03 42 00 00"))
        #expect(VarintFraming.join([codec.ping]) == hex("00"))
    }

    @Test func specPublicationPush() {
        let push = codec.publicationPush(
            channel: "chat", WirePublication(Publication(offset: 1, data: Array("hi".utf8))), delta: false, epoch: "")
        #expect(push.map { VarintFraming.join([$0]) } == hex("10 22 0e 12 04 63 68 61 74 22 06 22 02 68 69 30 01"))
    }

    @Test func specDisconnectPush() {
        #expect(
            VarintFraming.join([codec.disconnectPush(.badRequest)])
                == hex("14 22 12 5a 10 08 ad 1b 12 0b 62 61 64 20 72 65 71 75 65 73 74"))
    }

    @Test func errorReply() throws {
        let reply = try PB.Reply(serializedBytes: codec.error(id: 7, .permissionDenied))
        #expect(reply.id == 7 && reply.error.code == 103 && reply.error.message == "permission denied")
    }

    /// Binary payloads and deltas travel as bytes, never as strings; `delta` marks a delta.
    @Test func deltaAndBinaryPublications() throws {
        let bytes: [UInt8] = [0, 1, 2, 0xFF]
        #expect(codec.canCarry([Publication(data: bytes, isJSON: false)], delta: false))
        let pushed = try #require(
            codec.publicationPush(channel: "c", WirePublication(Publication(offset: 2, data: bytes), isDelta: true), delta: true, epoch: ""))
        let reply = try PB.Reply(serializedBytes: pushed)
        #expect(Array(reply.push.pub.data) == bytes && reply.push.pub.delta && reply.push.pub.offset == 2)
    }

    @Test func subscribeCarriesTheTagsFilterTree() throws {
        var command = PB.Command()
        command.id = 2
        command.subscribe.channel = "quotes:x"
        var leaf = PB.FilterNode()
        leaf.key = "ticker"
        leaf.cmp = "in"
        leaf.vals = ["AAPL", "MSFT"]
        command.subscribe.tf.op = "not"
        command.subscribe.tf.nodes = [leaf]
        let batch = ProtobufCommandDecoder.decodeFrame(VarintFraming.join([try command.serializedBytes()]))
        #expect(batch.error == nil)
        guard case .subscribe(let s) = try #require(batch.commands.first).request else {
            Issue.record("not a subscribe")
            return
        }
        #expect(s.tagsFilter == FilterNode(op: "not", nodes: [FilterNode(key: "ticker", cmp: "in", vals: ["AAPL", "MSFT"])]))
    }

    @Test func subscribeResultWithRecoveredPublications() throws {
        var result = SubscribeResult()
        result.recoverable = true
        result.epoch = "E"
        result.offset = 9
        result.recovered = true
        result.wasRecovering = true
        result.publications = [WirePublication(Publication(offset: 8, data: Array("{}".utf8), info: ClientInfo(user: "u", client: "c")))]
        let reply = try PB.Reply(serializedBytes: codec.reply(id: 2, .subscribe(result)))
        let s = reply.subscribe
        #expect(s.recoverable && s.epoch == "E" && s.offset == 9 && s.recovered && s.wasRecovering)
        #expect(s.publications.map(\.offset) == [8] && s.publications[0].info.user == "u")
    }

    /// Strata's `recovery_failure` travels as field 1001 of `SubscribeResult`: not in
    /// client.proto, so a decoder generated from it keeps it as an unknown field (SDKs skip it),
    /// and the fields it knows decode as before.
    @Test func recoveryFailureIsField1001() throws {
        var result = SubscribeResult()
        result.wasRecovering = true
        result.epoch = "E"
        result.recoveryFailure = "epoch_changed"
        let bytes = codec.reply(id: 2, .subscribe(result))
        let reply = try PB.Reply(serializedBytes: bytes)
        #expect(reply.subscribe.wasRecovering && reply.subscribe.epoch == "E" && !reply.subscribe.recovered)
        // Tag 1001 << 3 | 2 = 8010 as a varint (ca 3e), the length, the text.
        let field: [UInt8] = [0xCA, 0x3E, 13] + Array("epoch_changed".utf8)
        #expect(Array(reply.subscribe.unknownFields.data) == field)
        var none = SubscribeResult()
        none.wasRecovering = true
        #expect(try PB.Reply(serializedBytes: codec.reply(id: 3, .subscribe(none))).subscribe.unknownFields.data.isEmpty)
    }

    // MARK: Malformed frames (§2.3): commands before the error are kept

    @Test(arguments: [
        "05 08 01",  // fewer body bytes than the length says
        "80",  // a varint cut short
        "",  // no command
        "ff ff ff ff ff ff ff ff ff ff 01",  // a length past 64 bits
        "02 ff ff",  // a body that is not a Command
    ])
    func malformedFramesFail(_ frame: String) {
        let batch = codec.decode(hex(frame))
        #expect(batch.error != nil)
        #expect(batch.commands.isEmpty)
    }

    @Test func commandsBeforeAMalformedOneAreKept() {
        let batch = codec.decode(hex("04 08 01 22 00 05 08 02"))
        #expect(batch.commands.map(\.id) == [1])
        #expect(batch.error != nil)
    }

    @Test func emptyCommandIsAPong() throws {
        let batch = codec.decode(hex("00"))
        #expect(batch.error == nil)
        let command = try #require(batch.commands.first)
        guard case .empty = command.request, command.id == 0 else { Issue.record("\(command)"); return }
    }

    @Test func unknownFieldsAreSkipped() throws {
        // Command{id:1, connect:{token:"t", field 9: ""}, field 20: 5}
        let batch = codec.decode(VarintFraming.join([hex("08 01 22 05 0a 01 74 4a 00 a0 01 05")]))
        #expect(batch.error == nil)
        guard case .connect(let c) = try #require(batch.commands.first).request else { Issue.record("no connect"); return }
        #expect(c.token == "t")
    }

    // MARK: Properties

    /// Commands built with the generated types decode to the same values, whatever the mix.
    @Test func commandsRoundTrip() throws {
        var rng = SplitMix(state: 0x5EED_0F_C0DEC)
        for _ in 0..<500 {
            var pbs: [PB.Command] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) { pbs.append(Self.randomCommand(&rng)) }
            let frame = VarintFraming.join(try pbs.map { try $0.serializedBytes() })
            let batch = codec.decode(frame)
            #expect(batch.error == nil)
            #expect(batch.commands.count == pbs.count)
            for (pb, decoded) in zip(pbs, batch.commands) { Self.expectSame(pb, decoded) }
        }
    }

    /// Random bytes and random cuts of valid frames: an error or commands, never a crash.
    @Test func arbitraryBytesNeverCrash() throws {
        var rng = SplitMix(state: 42)
        for _ in 0..<3000 {
            let valid = VarintFraming.join([try Self.randomCommand(&rng).serializedBytes()])
            var frame = Array(valid.prefix(Int.random(in: 0...valid.count, using: &rng)))
            for _ in 0..<Int.random(in: 0...3, using: &rng) where !frame.isEmpty {
                frame[Int.random(in: 0..<frame.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            let batch = codec.decode(frame)
            #expect(batch.error != nil || !batch.commands.isEmpty)
        }
    }

    static func randomCommand(_ rng: inout SplitMix) -> PB.Command {
        let letters: [Character] = ["a", "é", "中", ":", "#", "$"]
        func text() -> String { String((0..<Int.random(in: 0...8, using: &rng)).map { _ in letters[Int.random(in: 0...5, using: &rng)] }) }
        var c = PB.Command()
        c.id = UInt32.random(in: 0...UInt32.max, using: &rng)
        switch Int.random(in: 0...5, using: &rng) {
        case 0:
            var r = PB.ConnectRequest()
            r.token = text()
            r.name = text()
            var s = PB.SubscribeRequest()
            s.recover = true
            s.offset = UInt64.random(in: 0...UInt64.max, using: &rng)
            s.epoch = text()
            r.subs[text()] = s
            c.connect = r
        case 1:
            var r = PB.SubscribeRequest()
            r.channel = text()
            r.recover = Bool.random(using: &rng)
            r.offset = UInt64.random(in: 0...1000, using: &rng)
            r.epoch = text()
            r.delta = Bool.random(using: &rng) ? "fossil" : ""
            r.joinLeave = Bool.random(using: &rng)
            r.flag = Int64.random(in: -5...5, using: &rng)
            c.subscribe = r
        case 2:
            c.publish.channel = text()
            c.publish.data = Data((0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 3:
            c.history.channel = text()
            c.history.limit = Int32.random(in: -1...100, using: &rng)
            c.history.reverse = Bool.random(using: &rng)
            if Bool.random(using: &rng) { c.history.since.offset = UInt64.random(in: 0...100, using: &rng) }
        case 4:
            c.rpc.method = text()
            c.rpc.data = Data(text().utf8)
        default:
            c.subRefresh.channel = text()
            c.subRefresh.token = text()
        }
        return c
    }

    static func expectSame(_ pb: PB.Command, _ c: Command) {
        #expect(pb.id == c.id)
        switch c.request {
        case .connect(let r):
            #expect(pb.connect.token == r.token && pb.connect.name == r.name)
            #expect(Set(pb.connect.subs.keys) == Set(r.subs.keys))
            for (k, s) in pb.connect.subs {
                #expect(r.subs[k]?.offset == s.offset && r.subs[k]?.epoch == s.epoch && r.subs[k]?.channel == k)
            }
        case .subscribe(let r):
            let s = pb.subscribe
            #expect(s.channel == r.channel && s.recover == r.recover && s.offset == r.offset && s.epoch == r.epoch)
            #expect(s.delta == r.delta && s.joinLeave == r.joinLeave && s.flag == r.flag)
        case .publish(let channel, let data):
            #expect(pb.publish.channel == channel && Array(pb.publish.data) == data)
        case .history(let r):
            #expect(pb.history.channel == r.channel && pb.history.limit == r.limit && pb.history.reverse == r.reverse)
            #expect(pb.history.hasSince == (r.since != nil))
        case .rpc(let method, let data):
            #expect(pb.rpc.method == method && Array(pb.rpc.data) == data)
        case .subRefresh(let channel, let token):
            #expect(pb.subRefresh.channel == channel && pb.subRefresh.token == token)
        default:
            Issue.record("unexpected \(c.request)")
        }
    }
}

@Suite("Varint framing")
struct VarintFramingTests {
    @Test(arguments: [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, Int(UInt32.max)])
    func lengthsRoundTrip(_ n: Int) throws {
        var prefix: [UInt8] = []
        VarintFraming.appendLength(n, to: &prefix)
        #expect(prefix.count == VarintFraming.size(of: n))
        #expect(prefix.last.map { $0 < 0x80 } == true)
        // A frame that announces n bytes and holds them (for small n) splits back.
        if n < 100_000 {
            let frame = prefix + [UInt8](repeating: 1, count: n)
            var offset = 0
            #expect(try VarintFraming.next(in: frame, at: &offset) == prefix.count..<frame.count)
            #expect(try VarintFraming.next(in: frame, at: &offset) == nil)
        }
    }
}
