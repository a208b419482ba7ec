import Foundation
import StrataAuth
import StrataCore
import StrataProtocol
import Testing

@testable import StrataHub

/// `client.token.hmac_previous_secret_key` + `_valid_until` reach the node's verifiers (Node.keys).
@Suite("Node: HMAC secret rotation")
struct TokenRotationTests {
    static func config(validUntil: Int64) -> String {
        SessionHarness.defaultConfig.replacingOccurrences(
            of: #"{"hmac_secret_key":"secret"}"#,
            with: #"{"hmac_secret_key":"secret","hmac_previous_secret_key":"old","hmac_previous_secret_key_valid_until":\#(validUntil)}"#)
    }

    func connect(_ h: SessionHarness, secret: String) async throws -> ClientSession {
        let s = ClientSession(node: h.node)
        let token = TokenIssuer.hs256(secret: secret, user: "42", now: h.clock.nowSeconds(), ttlSeconds: 60)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(token)"}}"#)
        return s
    }

    @Test func previousSecretConnectsUntilValidUntil() async throws {
        let probe = try await SessionHarness()
        let now = probe.clock.nowSeconds()
        let rotating = try await SessionHarness(config: Self.config(validUntil: now + 3600))
        let old = try await connect(rotating, secret: "old")
        #expect(try rotating.messages(old).first?["connect"] != nil)
        #expect(old.queue.closeReason == nil)
        let current = try await connect(rotating, secret: "secret")
        #expect(try rotating.messages(current).first?["connect"] != nil)
        let other = try await connect(rotating, secret: "other")
        #expect(other.queue.closeReason == .invalidToken)

        let past = try await SessionHarness(config: Self.config(validUntil: now - 1))
        let late = try await connect(past, secret: "old")
        #expect(late.queue.closeReason == .invalidToken)
    }

    @Test func previousSecretSignsSubscriptionTokensToo() async throws {
        let probe = try await SessionHarness()
        let h = try await SessionHarness(config: Self.config(validUntil: probe.clock.nowSeconds() + 3600))
        let s = try await h.connected()
        let token = TokenIssuer.hs256(secret: "old", user: "42", now: h.clock.nowSeconds(), ttlSeconds: 60, channel: "$chat:rot")
        await h.send(s, #"{"id":2,"subscribe":{"channel":"$chat:rot","token":"\#(token)"}}"#)
        #expect(try h.messages(s).first { $0["id"]?.int == 2 }?["subscribe"] != nil)
    }
}
