import Foundation
import StrataCore
import SwiftProtobuf
import Testing

@testable import StrataProtocol

/// uni_grpc's codec (transports spec §5.5): a client.proto `ConnectRequest` in, bare `Push`
/// messages out, byte for byte as the spec's examples give them.
@Suite("uni_grpc codec")
struct UnidirectionalProtobufCodecTests {
    func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").compactMap { UInt8($0, radix: 16) }
    }

    /// The spec's request: token "abc", subs {"chat": {recover, epoch "E", offset 5}}.
    @Test func theSpecsConnectRequestDecodes() throws {
        let batch = UnidirectionalProtobufCodec().decode(bytes("0a 03 61 62 63 1a 0f 0a 04 63 68 61 74 12 07 18 01 32 01 45 38 05"))
        #expect(batch.error == nil)
        guard case .connect(let r) = try #require(batch.commands.first).request else {
            Issue.record("no connect")
            return
        }
        let chat = try #require(r.subs["chat"])
        #expect(r.token == "abc" && chat.channel == "chat" && chat.recover && chat.epoch == "E" && chat.offset == 5)
    }

    @Test func garbageIsAnError() {
        #expect(UnidirectionalProtobufCodec().decode([0xff, 0xff, 0xff]).error != nil)
    }

    /// `Push{connect:{client:"c1", version:"6.9.1 OSS", ping:25, session:"s1"}}`.
    @Test func theConnectPushIsTheSpecsBytes() {
        var r = ConnectResult()
        r.client = "c1"
        r.version = "6.9.1 OSS"
        r.ping = 25
        r.session = "s1"
        #expect(UnidirectionalProtobufCodec().reply(id: 1, .connect(r)) == bytes("52 15 0a 02 63 31 12 09 36 2e 39 2e 31 20 4f 53 53 38 19 4a 02 73 31"))
    }

    /// Pushes are `Push` messages, not `Reply`s around them (the bidirectional codec's), and a
    /// ping is an empty one.
    @Test func pushesAreBareAndPingsEmpty() throws {
        let codec = UnidirectionalProtobufCodec()
        let data: [UInt8] = [0xff, 0x00]
        let pub = try #require(codec.publicationPush(channel: "ch", WirePublication(Publication(offset: 3, data: data)), delta: false, epoch: ""))
        let push = try PB.Push(serializedBytes: pub)
        #expect(push.channel == "ch" && push.pub.data == Data(data) && push.pub.offset == 3)
        let inReply = try #require(ProtobufCodec().publicationPush(channel: "ch", WirePublication(Publication(offset: 3, data: data)), delta: false, epoch: ""))
        #expect(try PB.Reply(serializedBytes: inReply).push == push && inReply != pub)
        let disconnect = try PB.Push(serializedBytes: codec.disconnectPush(.shutdown))
        #expect(disconnect.disconnect.code == 3001 && disconnect.disconnect.reason == "shutdown")
        #expect(codec.ping.isEmpty && codec.kind == .unidirectionalProtobuf && codec.kind.isProtobuf)
    }
}
