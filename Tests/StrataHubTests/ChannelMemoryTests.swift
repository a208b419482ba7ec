import StrataCore
import StrataProtocol
import StrataTesting
import Testing

@testable import StrataHub

/// What a node remembers about a channel must not outlive its broker subscription to it: on a
/// broker that delivers only to subscribed nodes (Redis PUB/SUB, modelled by `PubSubBroker`),
/// nothing tells a node that stopped listening that the channel moved on. Issue 19's defect: a
/// cache-mode resubscribe got the read cached during the previous subscription — the stale
/// position and no publication (the harness's clock stands still, so the cache never ages out
/// by itself here).
@Suite struct ChannelMemoryTests {
    func subscribe(_ h: SessionHarness, _ s: ClientSession, id: Int, _ body: String) async throws -> JSONValue {
        await h.send(s, #"{"id":\#(id),"subscribe":{"channel":"cache:k","recover":true\#(body)}}"#)
        let replies = try h.messages(s)
        return try #require(replies.first { $0["id"]?.int == Int64(id) }?["subscribe"])
    }

    @Test(arguments: [false, true])
    func aCacheModeResubscribeGetsTheLatestValue(pubSub: Bool) async throws {
        let h = try await SessionHarness(broker: pubSub ? { PubSubBroker($0) } : nil)
        for i in 1...2 { _ = try await h.publish("cache:k", "v\(i)") }
        let first = try await h.connected()
        let reply = try await subscribe(h, first, id: 2, "")
        // (A cache-mode reply echoes the client's offset, as Centrifugo's does: the position is
        // in the publication.)
        #expect(reply["publications"]?.items.map { $0["offset"]?.int } == [2], "\(reply)")
        let epoch = try #require(reply["epoch"]?.str)
        await first.transportClosed()

        for i in 3...6 { _ = try await h.publish("cache:k", "v\(i)") }
        let second = try await h.connected()
        let again = try await subscribe(h, second, id: 2, #","offset":2,"epoch":"\#(epoch)""#)
        #expect(again["publications"]?.items.map { $0["offset"]?.int } == [6], "the resubscribe says \(again)")
    }

    /// A history read while no client listens is not kept for the next one either (the server
    /// API's `history` right after a publication through another node).
    @Test func readsWhileNotListeningAreNotReused() async throws {
        let h = try await SessionHarness(broker: { PubSubBroker($0) })
        _ = try await h.publish("chat:h", "a")
        let ns = try h.node.channels.options(for: "chat:h")
        #expect(try await h.node.readStream(channel: "chat:h", filter: .topOnly, options: ns).top.offset == 1)
        _ = try await h.publish("chat:h", "b")
        #expect(try await h.node.readStream(channel: "chat:h", filter: .topOnly, options: ns).top.offset == 2)
    }
}
