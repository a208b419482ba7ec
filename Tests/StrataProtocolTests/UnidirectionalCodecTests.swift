import StrataCore
import Testing

@testable import StrataProtocol

/// The one-way transports' codecs (transports spec §5.1) and one-way SSE's event ids.
@Suite("One-way codecs")
struct UnidirectionalCodecTests {
    func text(_ b: [UInt8]?) -> String { String(decoding: b ?? [], as: UTF8.self) }

    @Test func connectPushHasCentrifugosKeyOrder() {
        var r = ConnectResult()
        r.client = "c"
        r.version = "v"
        r.expires = true
        r.ttl = 10
        r.data = Array(#"{"a":1}"#.utf8)
        r.ping = 25
        r.session = "s"
        #expect(
            text(UnidirectionalJSONCodec().reply(id: 1, .connect(r)))
                == #"{"connect":{"client":"c","version":"v","data":{"a":1},"expires":true,"ttl":10,"ping":25,"session":"s"}}"#)
    }

    @Test func pushesAreBare() {
        let codec = UnidirectionalJSONCodec()
        let pub = codec.publicationPush(channel: "ch", WirePublication(Publication(offset: 3, data: Array("{}".utf8))), delta: false, epoch: "")
        #expect(text(pub) == #"{"channel":"ch","pub":{"data":{},"offset":3}}"#)
        #expect(text(codec.disconnectPush(.shutdown)) == #"{"disconnect":{"code":3001,"reason":"shutdown"}}"#)
        #expect(text(codec.ping) == "{}")
    }

    @Test(arguments: ["{}", "null", #"{"token":"t","subs":{"a":{"recover":true,"offset":5,"epoch":"E"}},"x":1}"#])
    func connectRequestsDecode(_ body: String) throws {
        let batch = UnidirectionalJSONCodec().decode(Array(body.utf8))
        #expect(batch.error == nil)
        guard case .connect(let r) = try #require(batch.commands.first).request else { Issue.record("no connect"); return }
        if body.contains("token") { #expect(r.token == "t" && r.subs["a"]?.offset == 5 && r.subs["a"]?.recover == true) }
    }

    @Test(arguments: ["", "[]", "not json", #"{"token":5}"#])
    func badConnectRequestsFail(_ body: String) {
        #expect(UnidirectionalJSONCodec().decode(Array(body.utf8)).error != nil)
    }

    @Test func ssePublicationEventsCarryTheirPosition() {
        let codec = UnidirectionalSSECodec()
        let event = codec.publicationPush(
            channel: "news:a b", WirePublication(Publication(offset: 7, data: Array("{}".utf8)), streamEpoch: "E1"), delta: false,
            epoch: "")
        #expect(text(event) == "id: 7:E1:news%3Aa%20b\ndata: {\"channel\":\"news:a b\",\"pub\":{\"data\":{},\"offset\":7}}")
        #expect(text(codec.ping) == "data: {}")
    }

    @Test(arguments: ["chat", "a:b:c", "line\nbreak", "中文#$", "%41", ""])
    func eventIDsRoundTrip(_ channel: String) {
        let id = SSEEventID(channel: channel.isEmpty ? "x" : channel, epoch: "ep:och", offset: 42)
        #expect(!id.text.contains("\n"))
        #expect(SSEEventID(id.text) == id)
    }

    @Test(arguments: ["", "abc", "1:e", "x:e:c", "1:e:", "1:e:%zz", "1:e:a:b"])
    func foreignIDsAreIgnored(_ text: String) {
        #expect(SSEEventID(text) == nil)
    }

    /// A reconnect's Last-Event-ID becomes a recovering subscription of its channel, unless the
    /// request names a position for it; recovered publications then follow the connect push as
    /// their own events.
    @Test func lastEventIDResumesItsChannel() throws {
        let codec = UnidirectionalSSECodec(lastEventID: SSEEventID(channel: "news", epoch: "E", offset: 9))
        guard case .connect(let r) = try #require(codec.decode(Array("{}".utf8)).commands.first).request else { return }
        let sub = try #require(r.subs["news"])
        #expect(sub.recover && sub.offset == 9 && sub.epoch == "E" && sub.channel == "news")
        let own = #"{"subs":{"news":{"recover":true,"offset":3,"epoch":"E"}}}"#
        guard case .connect(let r2) = try #require(codec.decode(Array(own.utf8)).commands.first).request else { return }
        #expect(r2.subs["news"]?.offset == 3)

        var result = ConnectResult()
        var s = SubscribeResult()
        s.recovered = true
        s.epoch = "E"
        s.publications = [WirePublication(Publication(offset: 10, data: Array("1".utf8)))]
        result.subs = [("news", s)]
        let out = text(codec.reply(id: 1, .connect(result)))
        #expect(out == "data: {\"connect\":{\"subs\":{\"news\":{\"epoch\":\"E\",\"recovered\":true}}}}\n\nid: 10:E:news\ndata: {\"channel\":\"news\",\"pub\":{\"data\":1,\"offset\":10}}")
    }
}
