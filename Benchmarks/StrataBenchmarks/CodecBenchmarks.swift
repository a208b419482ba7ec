import Benchmark
import StrataCore
import StrataProtocol

// The client protocol's codecs on their hot paths: a publication push (encoded once per
// publication and codec for a whole fan-out) and a subscribe command (decoded once per command).
// Protobuf through the types swift-protobuf generates from client.proto, beside JSON and beside a
// hand-written Protobuf encoder of the same push: the measurement that decides whether the
// generated encoder is kept (docs/decisions/0009).

private let info = ClientInfo(user: "user-42", client: "1b7f3c9e-5f3c-4c43-9f34-2f0b9c1a7d55")
private let payload = Array(#"{"text":"a publication of a realistic size, for a chat or a dashboard","n":123456}"#.utf8)
private let publication = WirePublication(Publication(offset: 123_456, data: payload, info: info))

/// The same bytes as `ProtobufReplyEncoder.publicationPush` for a publication with data, info and
/// offset, written directly (only for the comparison).
enum HandWrittenPush {
    static func varint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func field(_ number: UInt64, _ bytes: [UInt8], _ out: inout [UInt8]) {
        varint(number << 3 | 2, &out)
        varint(UInt64(bytes.count), &out)
        out += bytes
    }

    static func push(channel: String, _ p: Publication) -> [UInt8] {
        var i: [UInt8] = []
        field(1, Array(p.info?.user.utf8 ?? "".utf8), &i)
        field(2, Array(p.info?.client.utf8 ?? "".utf8), &i)
        var pub: [UInt8] = []
        field(4, p.data, &pub)
        field(5, i, &pub)
        varint(6 << 3, &pub)
        varint(p.offset, &pub)
        var push: [UInt8] = []
        field(2, Array(channel.utf8), &push)
        field(4, pub, &push)
        var reply: [UInt8] = []
        field(4, push, &reply)
        return reply
    }
}

func codecBenchmarks() {
    let json = JSONCodec()
    let protobuf = ProtobufCodec()
    // The hand-written encoder must give the generated one's bytes, or the comparison is void.
    precondition(
        HandWrittenPush.push(channel: "chat:room", publication.publication)
            == protobuf.publicationPush(channel: "chat:room", publication, delta: false, epoch: ""))

    Benchmark("codec publication push, json") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(json.publicationPush(channel: "chat:room", publication, delta: false, epoch: ""))
        }
    }
    Benchmark("codec publication push, protobuf (generated)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(protobuf.publicationPush(channel: "chat:room", publication, delta: false, epoch: ""))
        }
    }
    Benchmark("codec publication push, protobuf (hand-written)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(HandWrittenPush.push(channel: "chat:room", publication.publication))
        }
    }

    let jsonSubscribe = Array(#"{"id":7,"subscribe":{"channel":"chat:room","recover":true,"offset":123,"epoch":"AbCdEfGh"}}"#.utf8)
    let protobufSubscribe = VarintFraming.join([
        [0x08, 0x07, 0x2A, 0x1C, 0x0A, 0x09] + Array("chat:room".utf8) + [0x18, 0x01, 0x32, 0x08] + Array("AbCdEfGh".utf8)
            + [0x38, 0x7B]
    ])
    Benchmark("codec decode subscribe, json") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(json.decode(jsonSubscribe)) }
    }
    Benchmark("codec decode subscribe, protobuf (generated)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(protobuf.decode(protobufSubscribe)) }
    }
}
