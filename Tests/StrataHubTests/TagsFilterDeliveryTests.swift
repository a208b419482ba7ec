import StrataCore
import StrataDelta
import StrataProtocol
import Testing

@testable import StrataHub

/// A subscription's tags filter (`tf`): 107 where the namespace does not allow one or the tree is
/// invalid; live publications that do not match are not sent, and a positioned subscription
/// moves past them without losing its place.
@Suite("Tags filter delivery")
struct TagsFilterDeliveryTests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1"},
         "channel":{"namespaces":[
          {"name":"quotes","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_tags_filter":true,
           "allowed_delta_types":["fossil"],"delta_publish":true,"allow_subscribe_for_client":true},
          {"name":"plain","allow_subscribe_for_client":true}]}}
        """
    static let aapl = #"{"key":"ticker","cmp":"eq","val":"AAPL"}"#

    func publish(_ h: SessionHarness, _ channel: String, ticker: String, _ i: Int) async throws {
        let data = #"{"ticker":"\#(ticker)","price":\#(100 + i),"book":"\#(String(repeating: "x", count: 200))"}"#
        _ = try await h.node.publish(channel: channel, data: Array(data.utf8), tags: ["ticker": ticker])
    }

    @Test func refusedWith107WhereNotAllowedOrInvalid() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"plain:x","tf":\#(Self.aapl)}}"#)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"quotes:x","tf":{"op":"not","nodes":[]}}}"#)
        await h.send(s, #"{"id":4,"subscribe":{"channel":"quotes:y","tf":{"key":"ticker","cmp":"eq"}}}"#)
        await h.send(s, #"{"id":5,"subscribe":{"channel":"quotes:z","tf":\#(Self.aapl)}}"#)
        let replies = try h.messages(s)
        #expect(replies.count == 4)
        for id in 2...4 {
            let reply = replies.first { $0["id"]?.int == Int64(id) }
            #expect(reply?["error"]?["code"]?.int == 107, "\(id): \(String(describing: reply))")
        }
        #expect(replies.first { $0["id"]?.int == 5 }?["subscribe"] != nil, "the connection stays and can subscribe")
    }

    @Test func liveDeliveryKeepsOnlyMatchingAndThePositionMovesOn() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"quotes:live","tf":\#(Self.aapl)}}"#)
        #expect(try h.messages(s).first?["subscribe"] != nil)
        for (i, t) in ["AAPL", "MSFT", "MSFT", "AAPL", "GOOG", "AAPL"].enumerated() {
            try await publish(h, "quotes:live", ticker: t, i)
        }
        let messages = try h.messages(s)
        let pubs = messages.compactMap { $0["push"]?["pub"] }
        #expect(pubs.map { $0["offset"]?.int } == [1, 4, 6])
        #expect(!messages.contains { $0["push"]?["unsubscribe"] != nil }, "skipped offsets are no gap")
    }

    @Test func aDeltaSubscriberGetsAFullPublicationAfterAFilteredOne() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"quotes:d","delta":"fossil","tf":\#(Self.aapl)}}"#)
        #expect(try h.messages(s).first?["subscribe"]?["delta"] == .bool(true))
        for (i, t) in ["AAPL", "AAPL", "MSFT", "AAPL"].enumerated() { try await publish(h, "quotes:d", ticker: t, i) }
        let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(pubs.map { $0["offset"]?.int } == [1, 2, 4])
        // 1 full, 2 a delta onto 1, 4 full: the client never held 3.
        #expect(pubs.map { $0["delta"] == .bool(true) } == [false, true, false])
        var base: [UInt8] = []
        for pub in pubs {
            guard case .string(let text)? = pub["data"] else { Issue.record("delta data is a string"); continue }
            base = pub["delta"] == .bool(true) ? try DeltaApplier.apply(source: base, delta: Array(text.utf8)) : Array(text.utf8)
            #expect(String(decoding: base, as: UTF8.self).contains(#""ticker":"AAPL""#))
        }
    }

    @Test func recoveryDeliversOnlyMatchingPublications() async throws {
        let h = try await SessionHarness(config: Self.config)
        for (i, t) in ["AAPL", "MSFT", "AAPL", "MSFT"].enumerated() { try await publish(h, "quotes:r", ticker: t, i) }
        let top = try await h.node.readStream(channel: "quotes:r", filter: .topOnly, options: h.node.channels.options(for: "quotes:r")).top
        let s = try await h.connected()
        await h.send(
            s, #"{"id":2,"subscribe":{"channel":"quotes:r","recover":true,"offset":0,"epoch":"\#(top.epoch)","tf":\#(Self.aapl)}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["recovered"] == .bool(true))
        guard case .array(let recovered)? = reply["publications"] else {
            Issue.record("no publications in \(reply)")
            return
        }
        #expect(recovered.map { $0["offset"]?.int } == [1, 3])
    }
}
