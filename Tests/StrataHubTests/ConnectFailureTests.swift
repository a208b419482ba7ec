import StrataAuth
import StrataBroker
import StrataCore
import StrataHistory
import StrataProtocol
import StrataTesting
import Testing
import Synchronization

@testable import StrataHub

/// Every step of connect that can fail leaves nothing behind (issue 23, part A.1): no user, no
/// subscription, no presence, no hub or timer registration, and later commands get no answer
/// (the connection closes with 3501).
@Suite("Connect failures")
struct ConnectFailureTests {
    enum Outcome: Equatable {
        case error(UInt32)
        case disconnect(Disconnect)
    }

    /// Sends `connect` and returns how it failed.
    func failedConnect(_ h: SessionHarness, _ s: ClientSession, _ connect: String) async throws -> Outcome {
        await h.send(s, #"{"id":1,"connect":"# + connect + "}")
        if let reason = s.queue.closeReason {
            #expect(try h.messages(s).isEmpty, "a refused connect writes only the close")
            return .disconnect(reason)
        }
        let replies = try h.messages(s)
        try #require(replies.count == 1, "one error reply, got \(replies)")
        #expect(replies[0]["connect"] == nil)
        let code = try #require(replies[0]["error"]?["code"]?.int)
        return .error(UInt32(code))
    }

    /// Nothing of the session is left anywhere, and it answers no further command.
    func expectNothingLeft(
        _ h: SessionHarness, _ s: ClientSession, presenceChannels: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(s.user == "", sourceLocation: sourceLocation)
        #expect(!s.isConnected, sourceLocation: sourceLocation)
        #expect(s.state.withLock { $0.subscriptions.isEmpty && $0.connInfo == nil && $0.expireAt == nil }, sourceLocation: sourceLocation)
        #expect(h.node.hub.connectionCount == 0, sourceLocation: sourceLocation)
        #expect(h.node.hub.userCount == 0, sourceLocation: sourceLocation)
        #expect(h.node.hub.subscriptionCount == 0, sourceLocation: sourceLocation)
        #expect(h.node.hub.connections(user: nil, client: s.id).isEmpty, sourceLocation: sourceLocation)
        #expect(h.node.timers.count == 0, sourceLocation: sourceLocation)
        for channel in presenceChannels {
            #expect(try await h.node.presence.presence(channel: channel).isEmpty, "presence of \(channel)", sourceLocation: sourceLocation)
        }
        let closedAlready = s.queue.closeReason != nil
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:later"}}"#)
        await h.send(s, #"{"id":3,"presence_stats":{"channel":"chat:later"}}"#)
        #expect(try h.messages(s).isEmpty, "no answer after a failed connect", sourceLocation: sourceLocation)
        if !closedAlready { #expect(s.queue.closeReason == .badRequest, sourceLocation: sourceLocation) }
        #expect(h.node.hub.subscriptionCount == 0, sourceLocation: sourceLocation)
        #expect(try await h.node.presence.presence(channel: "chat:later").isEmpty, sourceLocation: sourceLocation)
    }

    @Test func invalidToken() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let bad = TokenIssuer.hs256(secret: "other", user: "42", now: h.clock.nowSeconds(), ttlSeconds: 60)
        #expect(try await failedConnect(h, s, #"{"token":"\#(bad)"}"#) == .disconnect(.invalidToken))
        try await expectNothingLeft(h, s)
    }

    @Test func expiredToken() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let old = TokenIssuer.hs256(secret: "secret", user: "42", now: h.clock.nowSeconds() - 100, ttlSeconds: 10)
        #expect(try await failedConnect(h, s, #"{"token":"\#(old)"}"#) == .error(109))
        try await expectNothingLeft(h, s)
    }

    @Test func expireAtInThePast() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let token = h.token("42", claims: #""expire_at":\#(h.clock.nowSeconds() - 5),"channels":["chat:a"]"#)
        #expect(try await failedConnect(h, s, #"{"token":"\#(token)"}"#) == .error(110))
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a"])
    }

    @Test func missingTokenWhenAnonymousIsNotAllowed() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        #expect(try await failedConnect(h, s, "{}") == .disconnect(.badRequest))
        try await expectNothingLeft(h, s)
    }

    @Test func anonymousTokenWhenDisallowed() async throws {
        let h = try await SessionHarness(
            config: #"{"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","disallow_anonymous_connection_tokens":true}}"#)
        let s = ClientSession(node: h.node)
        #expect(try await failedConnect(h, s, #"{"token":"\#(h.token(""))"}"#) == .disconnect(.permissionDenied))
        try await expectNothingLeft(h, s)
    }

    @Test func userConnectionLimit() async throws {
        let h = try await SessionHarness(
            config: #"{"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","user_connection_limit":1}}"#)
        let first = try await h.connected("42")
        let s = ClientSession(node: h.node)
        #expect(try await failedConnect(h, s, #"{"token":"\#(h.token("42"))"}"#) == .disconnect(.connectionLimit))
        #expect(h.node.hub.connections(user: "42", client: nil).map(\.id) == [first.id])
        first.disconnect(.shutdown)
        await first.cleanup()
        try await expectNothingLeft(h, s)
    }

    @Test func connectionLimit() async throws {
        let h = try await SessionHarness(
            config: #"{"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","connection_limit":1}}"#)
        let first = try await h.connected("7")
        let s = ClientSession(node: h.node)
        #expect(try await failedConnect(h, s, #"{"token":"\#(h.token("42"))"}"#) == .disconnect(.connectionLimit))
        #expect(h.node.hub.connectionCount == 1)
        first.disconnect(.shutdown)
        await first.cleanup()
        try await expectNothingLeft(h, s)
    }

    @Test func clientListedSubscriptionInUnknownNamespace() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let connect = #"{"token":"\#(h.token("42"))","subs":{"chat:a":{},"nope:x":{}}}"#
        #expect(try await failedConnect(h, s, connect) == .disconnect(.badRequest))
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a"])
    }

    @Test func channelLimit() async throws {
        let h = try await SessionHarness(
            config: #"{"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","channel_limit":1},"# +
                #""channel":{"without_namespace":{"allow_subscribe_for_client":true}}}"#)
        let s = ClientSession(node: h.node)
        #expect(try await failedConnect(h, s, #"{"token":"\#(h.token("42", claims: #""channels":["a","b"]"#))"}"#) == .disconnect(.channelLimit))
        try await expectNothingLeft(h, s)
    }

    /// The issue's case: a valid token whose `subs` name a channel in an unknown namespace. The
    /// channel before it (sorted) was already joined, with presence: all undone, and since the
    /// subscription never became live, no join or leave was ever announced.
    @Test func tokenSubscriptionInUnknownNamespace() async throws {
        let h = try await SessionHarness()
        let watcher = try await h.connected("7")
        await h.send(watcher, #"{"id":2,"subscribe":{"channel":"chat:a"}}"#)
        _ = try h.messages(watcher)
        let s = ClientSession(node: h.node)
        let token = h.token("42", claims: #""subs":{"chat:a":{},"nope:x":{}}"#)
        #expect(try await failedConnect(h, s, #"{"token":"\#(token)"}"#) == .error(102))
        let events = try h.messages(watcher).compactMap { $0["push"] }
        #expect(events.isEmpty, "no join or leave of the refused connection: \(events)")
        watcher.disconnect(.shutdown)
        await watcher.cleanup()
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a"])
    }

    @Test func tokenSubscriptionWithTooLongChannel() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let long = "chat:" + String(repeating: "a", count: 300)
        let token = h.token("42", claims: #""channels":["chat:a","\#(long)"]"#)
        #expect(try await failedConnect(h, s, #"{"token":"\#(token)"}"#) == .error(107))
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a"])
    }

    /// The last step: positioning decides the subscription cannot be recovered and the client
    /// asked for an error instead (the reject flag), after the first channel was made ready.
    @Test func unrecoverablePositionWithRejectFlag() async throws {
        let h = try await SessionHarness()
        _ = try await h.publish("chat:b", "x")
        let s = ClientSession(node: h.node)
        let token = h.token("42", claims: #""channels":["chat:a","chat:b"]"#)
        let connect = #"{"token":"\#(token)","subs":{"chat:b":{"recover":true,"offset":7,"epoch":"gone","flag":2}}}"#
        #expect(try await failedConnect(h, s, connect) == .error(112))
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a", "chat:b"])
    }

    @Test func historyReadFailure() async throws {
        let h = try await SessionHarness(broker: { FaultyBroker($0, failHistory: true) })
        let s = ClientSession(node: h.node)
        let token = h.token("42", claims: #""channels":["chat:a"]"#)
        #expect(try await failedConnect(h, s, #"{"token":"\#(token)"}"#) == .error(100))
        try await expectNothingLeft(h, s, presenceChannels: ["chat:a"])
    }

    /// A publication arriving while the connect's server-side subscription is being set up is
    /// buffered and follows the reply (the session is not yet connected at that point).
    @Test func publicationDuringConnectFollowsTheReply() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let token = h.token("42", claims: #""channels":["chat:a"]"#)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(token)"}}"#)
        _ = try await h.publish("chat:a", "after")
        let messages = try h.messages(s)
        #expect(messages.first?["connect"]?["subs"]?["chat:a"] != nil)
        #expect(messages.dropFirst().compactMap { $0["push"]?["pub"]?["offset"]?.int } == [1])
        #expect(s.isConnected)
        #expect(h.node.hub.connectionCount == 1)
        #expect(h.node.timers.count == 1)
    }
}

/// A refresh whose token grants other server-side channels ends the connection with 3010, as
/// Centrifugo does (issue 23, part A.2); the same grants (in either claim) refresh normally.
@Suite("Refresh and token grants")
struct RefreshGrantTests {
    func connected(_ h: SessionHarness, claims: String) async throws -> ClientSession {
        let s = ClientSession(node: h.node)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(h.token("42", claims: claims))"}}"#)
        try #require(try h.messages(s).first?["connect"] != nil)
        return s
    }

    @Test("a changed grant ends the connection", arguments: [
        (#""channels":["chat:a"]"#, ""),
        (#""channels":["chat:a"]"#, #""channels":["chat:a","chat:b"]"#),
        (#""subs":{"chat:a":{}}"#, #""channels":["chat:b"]"#),
        ("", #""channels":["chat:a"]"#),
    ])
    func changedGrant(_ before: String, _ after: String) async throws {
        let h = try await SessionHarness()
        let s = try await connected(h, claims: before)
        await h.send(s, #"{"id":2,"refresh":{"token":"\#(h.token("42", claims: after))"}}"#)
        #expect(s.queue.closeReason == .insufficientState)
        #expect(try h.messages(s).isEmpty, "no refresh reply")
        await s.cleanup()
        #expect(h.node.hub.subscriptionCount == 0)
        #expect(try await h.node.presence(channel: "chat:a").isEmpty)
    }

    @Test("the same grant refreshes", arguments: [
        (#""channels":["chat:a"]"#, #""channels":["chat:a"]"#),
        (#""subs":{"chat:a":{}}"#, #""channels":["chat:a"]"#),
        ("", #""info":{"a":1}"#),
    ])
    func sameGrant(_ before: String, _ after: String) async throws {
        let h = try await SessionHarness()
        let s = try await connected(h, claims: before)
        await h.send(s, #"{"id":2,"refresh":{"token":"\#(h.token("42", claims: after))"}}"#)
        #expect(s.queue.closeReason == nil)
        #expect(try h.messages(s).first?["refresh"]?["expires"] == .bool(true))
    }

    /// A channel the client subscribed itself is not a token grant: a token without it keeps it.
    @Test func clientSubscriptionsAreNotGrants() async throws {
        let h = try await SessionHarness()
        let s = try await connected(h, claims: "")
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:own"}}"#)
        _ = try h.messages(s)
        await h.send(s, #"{"id":3,"refresh":{"token":"\#(h.token("42"))"}}"#)
        #expect(s.queue.closeReason == nil)
        #expect(try h.messages(s).first?["refresh"] != nil)
    }
}
