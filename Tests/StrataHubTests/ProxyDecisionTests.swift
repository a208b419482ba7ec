import Foundation
import StrataAuth
import StrataConfig
import StrataCore
import StrataProtocol
import StrataProxy
import Testing
import Synchronization

@testable import StrataHub

/// A backend in memory for the hub's proxies: answers by the endpoint's last path segment.
final class ScriptedBackend: ProxyTransport {
    let answers: Locked<[String: (status: Int, body: String)]>
    let calls = Locked<[(event: String, body: String)]>([])

    init(_ answers: [String: (status: Int, body: String)] = [:]) {
        self.answers = Locked(answers)
    }

    func set(_ event: String, _ body: String, status: Int = 200) {
        answers.withLock { $0[event] = (status, body) }
    }

    func bodies(_ event: String) -> [String] {
        calls.withLock { $0.filter { $0.event == event }.map(\.body) }
    }

    func post(_ endpoint: String, body: [UInt8], headers: [StrataConfig.HeaderField], timeoutMillis: Int64) async throws
        -> (status: Int, body: [UInt8])
    {
        let event = String(endpoint.split(separator: "/").last ?? "")
        calls.withLock { $0.append((event, String(decoding: body, as: UTF8.self))) }
        let (status, text) = answers.withLock { $0[event] } ?? (200, "{}")
        return (status, Array(text.utf8))
    }
}

/// What the hub does with each proxy's answer: the refresh and sub_refresh decisions (driven
/// directly, with the harness's clock), and the subscribe path's order of checks.
@Suite("Proxy decisions")
struct ProxyDecisionTests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","expired_sub_close_delay":"5s",
                   "proxy":{"refresh":{"enabled":true,"endpoint":"http://b/refresh","include_connection_meta":true}}},
         "channel":{"proxy":{"subscribe":{"endpoint":"http://b/subscribe"},"sub_refresh":{"endpoint":"http://b/sub_refresh"}},
          "namespaces":[{"name":"chat","history_size":10,"history_ttl":"300s","allow_recovery":true,"allow_positioning":true,
                         "subscribe_proxy_enabled":true,"sub_refresh_proxy_enabled":true}]}}
        """

    func harness(_ backend: ScriptedBackend) async throws -> SessionHarness {
        try await SessionHarness(config: Self.config, proxyTransport: backend)
    }

    /// Connected with a token expiring in `ttl` seconds carrying `meta`; the connect reply must
    /// not tell the client its expiry (the server refreshes).
    func connected(_ h: SessionHarness, ttl: Int64 = 10) async throws -> ClientSession {
        let s = ClientSession(node: h.node)
        let now = h.clock.nowSeconds()
        let token = TokenIssuer.hs256(
            secret: SessionHarness.secret, payload: Array(#"{"sub":"42","exp":\#(now + ttl),"meta":{"plan":"free"}}"#.utf8))
        await h.send(s, #"{"id":1,"connect":{"token":"\#(token)"}}"#)
        let reply = try #require(try h.messages(s).first?["connect"])
        #expect(reply["expires"] == nil && reply["ttl"] == nil)
        return s
    }

    @Test func aRefreshExtendsReplacesMetaOrEndsTheConnection() async throws {
        let backend = ScriptedBackend()
        let h = try await harness(backend)
        let s = try await connected(h)
        let now = h.clock.nowSeconds()
        // Not due before expire_at; due at it, without the expired_close_delay grace.
        #expect(!s.refreshThroughProxyIfDue(nowMillis: (now + 9) * 1000))
        backend.set("refresh", #"{"result":{"expire_at":\#(now + 100),"meta":{"plan":"pro"}}}"#)
        #expect(s.refreshThroughProxyIfDue(nowMillis: (now + 10) * 1000))
        try await waitFor { s.state.withLock { !$0.refreshingByProxy } }
        #expect(s.state.withLock { $0.expireAt } == now + 100)
        #expect(s.state.withLock { $0.connMeta } == Array(#"{"plan":"pro"}"#.utf8))
        #expect(backend.bodies("refresh").first?.hasSuffix(#""user":"42","meta":{"plan":"free"}}"#) == true)

        // A backend that fails: kept, asked again in a minute.
        backend.set("refresh", "", status: 502)
        await s.refreshThroughProxy()
        #expect(s.queue.closeReason == nil && s.state.withLock { $0.expireAt } == h.clock.nowSeconds() + 60)

        // An error answer means expired for a refresh.
        backend.set("refresh", #"{"error":{"code":1000,"message":"x"}}"#)
        await s.refreshThroughProxy()
        #expect(s.queue.closeReason == .expired)
    }

    @Test(arguments: [
        (#"{"result":{"expired":true,"expire_at":99999999999}}"#, Disconnect.expired),
        (#"{"result":{}}"#, Disconnect.expired),
        (#"{}"#, Disconnect.expired),
        (#"{"result":{"expire_at":99999999999,"b64info":"%%"}}"#, Disconnect.serverError),
    ])
    func refreshAnswersThatEndTheConnection(_ answer: String, _ expected: Disconnect) async throws {
        let backend = ScriptedBackend(["refresh": (200, answer)])
        let h = try await harness(backend)
        let s = try await connected(h)
        await s.refreshThroughProxy()
        #expect(s.queue.closeReason == expected)
    }

    @Test func aClientMayNotRefreshWhenTheServerDoes() async throws {
        let h = try await harness(ScriptedBackend())
        let s = try await connected(h)
        await h.send(s, #"{"id":2,"refresh":{"token":"\#(h.token("42"))"}}"#)
        #expect(s.queue.closeReason == .badRequest)
    }

    /// Subscribed through the subscribe proxy with an expiry in `ttl` seconds.
    func leased(_ h: SessionHarness, _ backend: ScriptedBackend, _ s: ClientSession, ttl: Int64) async throws -> JSONValue {
        backend.set("subscribe", #"{"result":{"expire_at":\#(h.clock.nowSeconds() + ttl),"info":{"v":1}}}"#)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"chat:a","recoverable":true,"positioned":true}}"#)
        return try #require(try h.messages(s).first?["subscribe"])
    }

    @Test func theSubscribeProxyDecidesAndTheClientsFlagsDoNotCount() async throws {
        let backend = ScriptedBackend()
        let h = try await harness(backend)
        let s = try await connected(h, ttl: 3600)
        let reply = try await leased(h, backend, s, ttl: 10)
        // No expiry for the client (the server refreshes), and no recovery it asked for.
        #expect(reply["expires"] == nil && reply["ttl"] == nil && reply["recoverable"] == nil && reply["positioned"] == nil)
        #expect(s.state.withLock { $0.subscriptions["chat:a"]?.chanInfo } == Array(#"{"v":1}"#.utf8))
        // A private channel without a token is refused before the backend is asked.
        await h.send(s, #"{"id":4,"subscribe":{"channel":"$chat:b"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 103)
        #expect(backend.bodies("subscribe").count == 1)
    }

    @Test func subRefreshExtendsStopsExpiringRetriesOrEnds() async throws {
        let backend = ScriptedBackend()
        let h = try await harness(backend)
        let s = try await connected(h, ttl: 3600)
        _ = try await leased(h, backend, s, ttl: 10)
        let now = h.clock.nowSeconds()
        // Not asked within the 5 s grace.
        await s.expireSubscriptions(nowMillis: (now + 14) * 1000)
        #expect(backend.bodies("sub_refresh").isEmpty)

        backend.set("sub_refresh", #"{"result":{"expire_at":\#(now + 100),"info":{"v":2}}}"#)
        await s.refreshSubscriptionThroughProxy("chat:a")
        #expect(s.state.withLock { $0.subscriptions["chat:a"]?.expireAt } == now + 100)
        #expect(s.state.withLock { $0.subscriptions["chat:a"]?.chanInfo } == Array(#"{"v":2}"#.utf8))

        backend.set("sub_refresh", "nope", status: 200)
        await s.refreshSubscriptionThroughProxy("chat:a")
        #expect(s.state.withLock { $0.subscriptions["chat:a"]?.expireAt } == h.clock.nowSeconds() + 60)

        backend.set("sub_refresh", #"{"result":{}}"#)
        await s.refreshSubscriptionThroughProxy("chat:a")
        #expect(s.state.withLock { $0.subscriptions["chat:a"] != nil && $0.subscriptions["chat:a"]?.expireAt == nil })

        backend.set("sub_refresh", #"{"result":{"expired":true}}"#)
        await s.refreshSubscriptionThroughProxy("chat:a")
        let push = try #require(try h.messages(s).first?["push"])
        #expect(push["channel"]?.str == "chat:a" && push["unsubscribe"]?["code"]?.int == 2501)
        #expect(s.queue.closeReason == nil && s.state.withLock { $0.subscriptions["chat:a"] == nil })
        #expect(backend.bodies("sub_refresh")[0].hasSuffix(#""user":"42","channel":"chat:a"}"#))
    }

    @Test func theTimerAsksTheBackendOncePerExpiry() async throws {
        let backend = ScriptedBackend()
        let h = try await harness(backend)
        let s = try await connected(h, ttl: 3600)
        _ = try await leased(h, backend, s, ttl: 10)
        let now = h.clock.nowSeconds()
        backend.set("sub_refresh", #"{"result":{"expire_at":\#(now + 1000)}}"#)
        await s.expireSubscriptions(nowMillis: (now + 16) * 1000)
        await s.expireSubscriptions(nowMillis: (now + 17) * 1000)  // the first call may still be under way
        try await waitFor { s.state.withLock { $0.subscriptions["chat:a"]?.expireAt } == now + 1000 }
        #expect(backend.bodies("sub_refresh").count == 1)
    }

    func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}
