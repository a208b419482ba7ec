import StrataCore
import StrataDelta
import StrataProtocol
import Testing

@testable import StrataHub

@Suite("Delta publications")
struct DeltaDeliveryTests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1"},
         "channel":{"namespaces":[
          {"name":"doc","history_size":10,"history_ttl":"300s","force_recovery":true,"allowed_delta_types":["fossil"],
           "delta_publish":true,"allow_subscribe_for_client":true},
          {"name":"plain","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true}]}}
        """

    static func doc(_ i: Int) -> String {
        let players = (0..<22).map { #"{"n":"Player \#($0)","x":\#($0 * 3 + (i % 3)),"y":\#($0 * 7)}"# }.joined(separator: ",")
        return #"{"minute":\#(i),"score":"1:0","players":[\#(players)]}"#
    }

    func publish(_ h: SessionHarness, _ channel: String, _ i: Int) async throws {
        _ = try await h.node.publish(channel: channel, data: Array(Self.doc(i).utf8))
    }

    /// Replays what a client does: full payloads replace the base, deltas apply onto it.
    func decode(_ pubs: [JSONValue], base: inout [UInt8]) throws -> [String] {
        var out: [String] = []
        for pub in pubs {
            guard case .string(let s)? = pub["data"] else {
                Issue.record("delta subscription data must be a JSON string: \(pub)")
                continue
            }
            let bytes = Array(s.utf8)
            if pub["delta"] == .bool(true) {
                base = try DeltaApplier.apply(source: base, delta: bytes)
            } else {
                base = bytes
            }
            out.append(String(decoding: base, as: UTF8.self))
        }
        return out
    }

    @Test func firstPublicationIsFullThenDeltasThatDecodeExactly() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:match","delta":"fossil"}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["delta"] == .bool(true))
        for i in 1...5 { try await publish(h, "doc:match", i) }
        let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(pubs.count == 5)
        #expect(pubs.first?["delta"] == nil, "the first publication after subscribe is full")
        #expect(pubs.dropFirst().allSatisfy { $0["delta"] == .bool(true) })
        var base: [UInt8] = []
        #expect(try decode(pubs, base: &base) == (1...5).map(Self.doc))
        // Deltas are much smaller than the documents.
        let sizes = pubs.dropFirst().map { pub -> Int in if case .string(let s)? = pub["data"] { s.utf8.count } else { 0 } }
        #expect(sizes.allSatisfy { $0 * 2 < Self.doc(1).utf8.count })
    }

    @Test func subscribersWithoutDeltaGetRawJSON() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:m2"}}"#)
        #expect(try h.messages(s).first?["subscribe"]?["delta"] == nil)
        for i in 1...2 { try await publish(h, "doc:m2", i) }
        let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(pubs.allSatisfy { if case .object? = $0["data"] { true } else { false } })
        #expect(pubs.allSatisfy { $0["delta"] == nil })
    }

    @Test func deltaNotAllowedInNamespaceIsNotNegotiated() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"plain:x","delta":"fossil"}}"#)
        #expect(try h.messages(s).first?["subscribe"]?["delta"] == nil)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"plain:y","delta":"gzip"}}"#)
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func recoveryWithDeltaSendsAChainFromAFullFirstPublication() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        try await publish(h, "doc:rec", 0)
        let epoch = try await h.node.history(channel: "doc:rec", filter: .topOnly).top.epoch
        for i in 1...4 { try await publish(h, "doc:rec", i) }
        await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:rec","delta":"fossil","recover":true,"offset":1,"epoch":"\#(epoch)"}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["recovered"] == .bool(true))
        let pubs = reply["publications"]?.items ?? []
        #expect(pubs.map { $0["delta"] == .bool(true) } == [false, true, true, true])
        var base: [UInt8] = []
        #expect(try decode(pubs, base: &base) == (1...4).map(Self.doc))
        // Live deltas continue on the recovered base.
        try await publish(h, "doc:rec", 5)
        let live = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(live.first?["delta"] == .bool(true))
        #expect(try decode(live, base: &base) == [Self.doc(5)])
    }

    /// A recovery that returned nothing sent no base: the client may hold only the position
    /// (after an application restart), so the next publication is full and deltas follow it
    /// (centrifuge#629; Centrifugo v6.9.1 still sends a delta here).
    @Test func afterARecoveryThatReturnedNothingTheNextPublicationIsFull() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        for i in 1...2 { try await publish(h, "doc:empty", i) }
        let epoch = try await h.node.history(channel: "doc:empty", filter: .topOnly).top.epoch
        await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:empty","delta":"fossil","recover":true,"offset":2,"epoch":"\#(epoch)"}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["recovered"] == .bool(true))
        #expect((reply["publications"]?.items ?? []).isEmpty)
        for i in 3...4 { try await publish(h, "doc:empty", i) }
        let live = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(live.map { $0["delta"] == .bool(true) } == [false, true])
        var base: [UInt8] = []
        #expect(try decode(live, base: &base) == (3...4).map(Self.doc))
    }

    @Test func emojiAndCJKPayloadsSurviveDeltaOverJSON() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:uni","delta":"fossil"}}"#)
        _ = try h.messages(s)
        let texts = [
            #"{"chat":"こんにちは世界 🎉🎉 Привет","n":1}"#, #"{"chat":"こんにちは世界 🎊🎉 Привет","n":2}"#,
            #"{"chat":"こんばんは世界 🎊🎉 Пока","n":3}"#, #"{"chat":"漢字かな交じり文 👩‍👩‍👧‍👦 emoji","n":4}"#,
        ]
        for t in texts { _ = try await h.node.publish(channel: "doc:uni", data: Array(t.utf8)) }
        let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
        var base: [UInt8] = []
        #expect(try decode(pubs, base: &base) == texts)
    }

    @Test func deltaIsComputedOncePerPublicationNotPerSubscriber() async throws {
        let h = try await SessionHarness(config: Self.config)
        var sessions: [ClientSession] = []
        for i in 0..<20 {
            let s = try await h.connected("u\(i)")
            await h.send(s, #"{"id":2,"subscribe":{"channel":"doc:many","delta":"fossil"}}"#)
            sessions.append(s)
        }
        try await publish(h, "doc:many", 1)
        try await publish(h, "doc:many", 2)
        let frames = try sessions.map { s in try h.messages(s).compactMap { $0["push"]?["pub"] } }
        // Every subscriber got byte-identical delta frames: one shared encoding.
        #expect(Set(frames.map { "\($0)" }).count == 1)
        #expect(frames.first?.last?["delta"] == .bool(true))
    }
}
