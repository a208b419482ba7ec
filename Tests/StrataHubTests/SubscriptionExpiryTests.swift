import Foundation
import StrataAuth
import StrataCore
import StrataProtocol
import Testing
import Synchronization

@testable import StrataHub

/// Subscription (and connection) expiry: docs/protocol/client-protocol.md §8 (end) and §6 timers.
///
/// The checks are driven directly with explicit times (`expireSubscriptions(nowMillis:)`,
/// `checkExpiry(nowMillis:)`) rather than by advancing the harness's ManualClock, so the node's
/// background sweeper (which reads that clock) never races the assertions.
@Suite("Subscription expiry")
struct SubscriptionExpiryTests {
    /// The harness config with a 5 s `expired_sub_close_delay` and a 3 s `expired_close_delay`.
    static let config = SessionHarness.defaultConfig.replacingOccurrences(
        of: #""ping_interval":"-1""#,
        with: #""ping_interval":"-1","expired_sub_close_delay":"5s","expired_close_delay":"3s""#)

    func subToken(_ h: SessionHarness, _ channel: String, user: String = "42", ttl: Int64) -> String {
        TokenIssuer.hs256(secret: SessionHarness.secret, user: user, now: h.clock.nowSeconds(), ttlSeconds: ttl, channel: channel)
    }

    /// Subscribes with a subscription token and returns the subscribe result.
    func subscribe(_ h: SessionHarness, _ s: ClientSession, _ channel: String, ttl: Int64, id: Int = 2) async throws -> JSONValue {
        await h.send(s, #"{"id":\#(id),"subscribe":{"channel":"\#(channel)","token":"\#(subToken(h, channel, ttl: ttl))"}}"#)
        let replies = try h.messages(s)
        return try #require(replies.first { $0["id"]?.int == Int64(id) }?["subscribe"], "\(replies)")
    }

    func unsubscribePushes(_ messages: [JSONValue]) -> [(String?, Int64?, String?)] {
        messages.compactMap { m in
            guard let push = m["push"], let u = push["unsubscribe"] else { return nil }
            return (push["channel"]?.str, u["code"]?.int, u["reason"]?.str)
        }
    }

    @Test func clientSideSubscriptionEndsWith2501AfterTheGrace() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let start = h.clock.nowMillis()
        let result = try await subscribe(h, s, "$chat:exp", ttl: 10)
        #expect(result["expires"] == .bool(true))
        #expect(result["ttl"]?.int == 10)
        #expect(s.state.withLock { $0.subscriptions["$chat:exp"]?.expireAt } == h.clock.nowSeconds() + 10)

        // Past expire_at but within expired_sub_close_delay: nothing happens.
        await s.expireSubscriptions(nowMillis: start + 10_000)
        await s.expireSubscriptions(nowMillis: start + 14_000)
        #expect(try h.messages(s).isEmpty)
        #expect(h.node.hub.subscribers("$chat:exp").count == 1)

        // At expire_at + grace: removed, unsubscribe push 2501, channel left on this node.
        await s.expireSubscriptions(nowMillis: start + 15_999)
        let pushes = unsubscribePushes(try h.messages(s))
        #expect(pushes.count == 1)
        #expect(pushes.first?.0 == "$chat:exp")
        #expect(pushes.first?.1 == 2501)
        #expect(pushes.first?.2 == "subscription expired")
        #expect(s.state.withLock { $0.subscriptions["$chat:exp"] } == nil)
        #expect(h.node.hub.subscribers("$chat:exp").isEmpty)
        #expect(try await h.node.presence(channel: "$chat:exp").isEmpty)
        #expect(s.queue.closeReason == nil)

        // No more publications for it, no second push; the connection stays usable.
        _ = try await h.publish("$chat:exp", "late")
        await s.expireSubscriptions(nowMillis: start + 60_000)
        #expect(try h.messages(s).isEmpty)
        await h.send(s, #"{"id":3,"sub_refresh":{"channel":"$chat:exp","token":"\#(subToken(h, "$chat:exp", ttl: 60))"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 103)
        // The client resubscribes with a new token (what SDKs do on 2501).
        let again = try await subscribe(h, s, "$chat:exp", ttl: 60, id: 4)
        #expect(again["ttl"]?.int == 60)
        #expect(s.queue.closeReason == nil)
    }

    @Test func onlyTheExpiredSubscriptionEnds() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let start = h.clock.nowMillis()
        _ = try await subscribe(h, s, "$chat:short", ttl: 10, id: 2)
        _ = try await subscribe(h, s, "$chat:long", ttl: 100, id: 3)
        await h.send(s, #"{"id":4,"subscribe":{"channel":"chat:forever"}}"#)
        _ = try h.messages(s)

        await s.expireSubscriptions(nowMillis: start + 20_000)
        #expect(unsubscribePushes(try h.messages(s)).map(\.0) == ["$chat:short"])
        #expect(s.state.withLock { $0.subscriptions.keys.sorted() } == ["$chat:long", "chat:forever"])

        _ = try await h.publish("$chat:long", "still")
        #expect(try h.messages(s).first?["push"]?["pub"] != nil)

        await s.expireSubscriptions(nowMillis: start + 105_000)
        #expect(unsubscribePushes(try h.messages(s)).map(\.0) == ["$chat:long"])
        #expect(s.state.withLock { $0.subscriptions.keys.sorted() } == ["chat:forever"])
    }

    @Test func subRefreshInTimeKeepsTheSubscription() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let start = h.clock.nowMillis()
        _ = try await subscribe(h, s, "$chat:r", ttl: 10)
        await h.send(s, #"{"id":3,"sub_refresh":{"channel":"$chat:r","token":"\#(subToken(h, "$chat:r", ttl: 100))"}}"#)
        let reply = try #require(try h.messages(s).first?["sub_refresh"])
        #expect(reply["expires"] == .bool(true))
        #expect(reply["ttl"]?.int == 100)

        // Well past the first token's expiry and grace: still subscribed.
        await s.expireSubscriptions(nowMillis: start + 60_000)
        #expect(try h.messages(s).isEmpty)
        _ = try await h.publish("$chat:r", "kept")
        #expect(try h.messages(s).first?["push"]?["pub"] != nil)

        // The refreshed expiry applies in turn.
        await s.expireSubscriptions(nowMillis: start + 104_000)
        #expect(try h.messages(s).isEmpty)
        await s.expireSubscriptions(nowMillis: start + 105_000)
        #expect(unsubscribePushes(try h.messages(s)).map(\.1) == [2501])
    }

    @Test func subRefreshWithoutExpiryMakesItPermanent() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let start = h.clock.nowMillis()
        _ = try await subscribe(h, s, "$chat:p", ttl: 10)
        await h.send(s, #"{"id":3,"sub_refresh":{"channel":"$chat:p","token":"\#(subToken(h, "$chat:p", ttl: 0))"}}"#)
        let reply = try #require(try h.messages(s).first?["sub_refresh"])
        #expect(reply["expires"] == nil)
        await s.expireSubscriptions(nowMillis: start + 86_400_000)
        #expect(try h.messages(s).isEmpty)
        #expect(s.state.withLock { $0.subscriptions["$chat:p"] } != nil)
    }

    @Test func serverSideSubscriptionExpiryDisconnects3006() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        try await s.serverSubscribe(
            channel: "chat:srv", info: nil, data: nil, recoverSince: nil, expireAt: nil, override: SubscriptionOverride())
        _ = try h.messages(s)
        let expireAt = h.clock.nowSeconds() + 10
        s.state.withLock { $0.subscriptions["chat:srv"]?.expireAt = expireAt }
        await s.expireSubscriptions(nowMillis: expireAt * 1000 + 4_999)
        #expect(s.queue.closeReason == nil)
        await s.expireSubscriptions(nowMillis: expireAt * 1000 + 5_000)
        #expect(s.queue.closeReason == .subExpired)
        #expect(s.queue.closeReason?.code == 3006)
    }

    @Test func serverAPIExpireAtReachesTheSubscription() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let expireAt = h.clock.nowSeconds() + 10
        try await s.serverSubscribe(
            channel: "chat:api", info: nil, data: nil, recoverSince: nil, expireAt: expireAt, override: SubscriptionOverride())
        #expect(s.state.withLock { $0.subscriptions["chat:api"]?.expireAt } == expireAt)
    }

    @Test func connectionExpiryIsCheckedWithoutPings() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = ClientSession(node: h.node)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(h.token("42", ttl: 10))"}}"#)
        _ = try h.messages(s)
        let expireAt = h.clock.nowSeconds() + 10
        await s.checkExpiry(nowMillis: expireAt * 1000 + 2_999)
        #expect(s.queue.closeReason == nil)
        await s.checkExpiry(nowMillis: expireAt * 1000 + 3_000)
        #expect(s.queue.closeReason == .expired)
    }

    @Test func backgroundSweeperRunsWithPingsDisabled() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        _ = try await subscribe(h, s, "$chat:bg", ttl: 10)
        h.clock.advance(seconds: 16)
        // The node's sweeper ticks every second on the node clock.
        var pushes: [(String?, Int64?, String?)] = []
        for _ in 0..<50 where pushes.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            pushes = unsubscribePushes(try h.messages(s))
        }
        #expect(pushes.map(\.1) == [2501])
        #expect(s.state.withLock { $0.subscriptions["$chat:bg"] } == nil)
    }

    @Test func sweepingManySessionsWithoutExpiryChangesNothing() async throws {
        let h = try await SessionHarness(config: Self.config)
        var sessions: [ClientSession] = []
        for i in 0..<50 {
            let s = try await h.connected("u\(i)")
            await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:all"}}"#)
            sessions.append(s)
        }
        for s in sessions { _ = try h.messages(s) }
        await h.node.timers.tick(nowMillis: h.clock.nowMillis())
        for s in sessions {
            #expect(try h.messages(s).isEmpty)
            #expect(s.queue.closeReason == nil)
        }
    }

    @Test("isPast never overflows on token-supplied values", arguments: [
        (Int64.max, Int64(25_000), Int64(1_767_225_600_000), false),
        (Int64.min, Int64(25_000), Int64(1_767_225_600_000), true),
        (Int64(1_767_225_600), Int64(0), Int64(1_767_225_600_000), true),
        (Int64(1_767_225_600), Int64(1), Int64(1_767_225_600_000), false),
        (Int64(1_767_225_600), Int64(25_000), Int64(1_767_225_625_000), true),
        (Int64(1_767_225_600), Int64(25_000), Int64(1_767_225_624_999), false),
        (Int64(1_767_225_600), Int64(-5), Int64(1_767_225_600_000), true),
    ])
    func isPast(_ expireAt: Int64, _ grace: Int64, _ now: Int64, _ expected: Bool) {
        #expect(ClientSession.isPast(expireAt: expireAt, graceMillis: grace, nowMillis: now) == expected)
    }
}

@Suite("Subscription expiry: far future")
struct FarSubscriptionExpiryTests {
    @Test func farFutureTokenExpiryDoesNotTrap() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        let now = h.clock.nowSeconds()
        let token = TokenIssuer.hs256(secret: SessionHarness.secret, user: "42", now: now, ttlSeconds: 1 << 62, channel: "$chat:far")
        await h.send(s, #"{"id":2,"subscribe":{"channel":"$chat:far","token":"\#(token)"}}"#)
        let result = try #require(try h.messages(s).first { $0["id"]?.int == 2 }?["subscribe"])
        #expect(result["ttl"]?.int == SubscriptionClaims.maxExpiry - now)
        await h.send(s, #"{"id":3,"sub_refresh":{"channel":"$chat:far","token":"\#(token)"}}"#)
        #expect(try h.messages(s).first?["sub_refresh"]?["ttl"]?.int == SubscriptionClaims.maxExpiry - now)
        await s.expireSubscriptions(nowMillis: h.clock.nowMillis() + 86_400_000 * 365)
        #expect(try h.messages(s).isEmpty)
    }
}
