import StrataBroker
import StrataCore
import StrataHistory
import StrataProtocol
import Testing

@testable import StrataHub

/// A broker whose subscribe and unsubscribe take a while (as a Redis round trip does) and which
/// checks, at each call, that the node asks for what its hub needs.
final class SlowBroker: Broker {
    let inner: LocalBroker
    private struct State {
        var subscribed: Set<String> = []
        var violations: [String] = []
        weak var node: Node?
    }
    private let state = Locked(State())

    init(_ store: MemoryHistoryStore) { inner = LocalBroker(store: store) }

    func attach(_ node: Node) { state.withLock { $0.node = node } }
    var violations: [String] { state.withLock { $0.violations } }
    func isSubscribed(_ channel: String) -> Bool { state.withLock { $0.subscribed.contains(channel) } }

    func start(handler: any BrokerEventHandler) async throws { try await inner.start(handler: handler) }
    func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        try await inner.publish(channel: channel, publication: publication, options: options)
    }
    func publishJoin(channel: String, info: ClientInfo) async throws {}
    func publishLeave(channel: String, info: ClientInfo) async throws {}

    func subscribe(channel: String) async throws {
        try await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
        state.withLock { s in
            if s.subscribed.contains(channel) { s.violations.append("subscribe while subscribed") }
            s.subscribed.insert(channel)
        }
    }

    func unsubscribe(channel: String) async throws {
        try await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
        state.withLock { s in
            // An UNSUBSCRIBE while the hub has subscribers leaves them deaf.
            if let node = s.node, !node.hub.subscribers(channel).isEmpty { s.violations.append("unsubscribe with live subscribers") }
            s.subscribed.remove(channel)
        }
    }

    func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        try await inner.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }
    func removeHistory(channel: String) async throws { try await inner.removeHistory(channel: channel) }
    func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await inner.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }
}

@Suite("Node ↔ broker seam")
struct BrokerSeamTests {
    /// 20 clients subscribe to and leave one channel over and over, concurrently, on a broker
    /// whose calls take up to 2 ms: the broker is subscribed exactly while the hub has
    /// subscribers, never unsubscribed under a live one, never subscribed twice.
    @Test func subscribeAndUnsubscribeOfOneChannelNeverCross() async throws {
        var slow: SlowBroker?
        let h = try await SessionHarness(broker: { store in
            let b = SlowBroker(store)
            slow = b
            return b
        })
        let broker = try #require(slow)
        broker.attach(h.node)
        var sessions: [ClientSession] = []
        for i in 0..<20 { sessions.append(try await h.connected("u\(i)")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in sessions {
                group.addTask {
                    for round in 0..<15 {
                        await s.handleFrame(Array(#"{"id":\#(2 * round + 2),"subscribe":{"channel":"chat:busy"}}"#.utf8))
                        await s.handleFrame(Array(#"{"id":\#(2 * round + 3),"unsubscribe":{"channel":"chat:busy"}}"#.utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(broker.violations.isEmpty, "\(broker.violations.prefix(5))")
        #expect(h.node.hub.subscribers("chat:busy").isEmpty)
        #expect(!broker.isSubscribed("chat:busy"))
        // Every subscribe succeeded (no error replies).
        for s in sessions {
            let errors = try h.messages(s).filter { $0["error"] != nil }
            #expect(errors.isEmpty, "\(errors.prefix(2))")
        }
    }

    /// A broker reports lost deliveries: positioned subscribers are sent to recover (2500),
    /// unpositioned ones carry on.
    @Test func deliveryGapMovesPositionedSubscribersToRecover() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:gap"}}"#)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"plain"}}"#)
        #expect(try h.messages(s).filter { $0["id"] != nil }.count == 2)
        h.node.handleDeliveryGap(channels: ["chat:gap", "plain"])
        let pushes = try h.messages(s).compactMap { $0["push"] }
        #expect(pushes.count == 1)
        #expect(pushes.first?["channel"]?.str == "chat:gap")
        #expect(pushes.first?["unsubscribe"]?["code"]?.int == 2500)
        // The plain subscription still receives publications.
        _ = try await h.publish("plain", "still here")
        let next = try h.messages(s).compactMap { $0["push"] }
        #expect(next.first?["channel"]?.str == "plain" && next.first?["pub"] != nil)
    }

    /// After 2500 the client resubscribes at once — here before the session's leave of the old
    /// subscription has had a chance to run. The leave must go first: run after the resubscribe,
    /// it took the new subscription out of the hub and the client heard nothing more (CI saw it
    /// on Redis). Repeated, since which task runs first is the scheduler's choice.
    @Test func aResubscribeAfter2500IsNotUndoneByTheOldLeave() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:again"}}"#)
        _ = try h.messages(s)
        for round in 0..<50 {
            h.node.handleDeliveryGap(channels: ["chat:again"])
            #expect(try h.messages(s).compactMap { $0["push"]?["unsubscribe"]?["code"]?.int } == [2500])
            await h.send(s, #"{"id":\#(round + 3),"subscribe":{"channel":"chat:again"}}"#)
            #expect(try h.messages(s).filter { $0["id"] != nil && $0["error"] == nil }.count == 1)
            // Let any leave still pending run: it must not take the new subscription away.
            try await Task.sleep(for: .milliseconds(2))
            _ = try await h.publish("chat:again", "round \(round)")
            let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
            #expect(pubs.count == 1, "round \(round): the resubscribed client heard \(pubs.count) publications")
            if pubs.count != 1 { break }
        }
    }
}
