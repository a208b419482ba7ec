import StrataCore
import StrataAuth
import StrataHistory
import StrataProtocol
import Testing

@testable import StrataHub

@Suite("ClientSession")
struct ClientSessionTests {
    @Test func connectReplyCarriesClientVersionAndExpiry() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(h.token("42", ttl: 600))","name":"test"}}"#)
        let reply = try #require(try h.messages(s).first)
        #expect(reply["id"]?.int == 1)
        let connect = try #require(reply["connect"])
        #expect(connect["client"]?.str == s.id)
        #expect(connect["version"]?.str == Node.version)
        #expect(connect["expires"] == .bool(true))
        #expect(connect["ttl"]?.int == 600)
        #expect(connect["ping"] == nil)  // pings disabled in this config
        #expect(s.user == "42")
    }

    @Test func commandBeforeConnectIsBadRequest() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        await h.send(s, #"{"id":1,"subscribe":{"channel":"chat:a"}}"#)
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func invalidTokenDisconnects3500() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let bad = TokenIssuer.hs256(secret: "other", user: "42", now: h.clock.nowSeconds(), ttlSeconds: 60)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(bad)"}}"#)
        #expect(s.queue.closeReason == .invalidToken)
    }

    @Test func expiredTokenIs109AndConnectionUnusable() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        let old = TokenIssuer.hs256(secret: "secret", user: "42", now: h.clock.nowSeconds() - 100, ttlSeconds: 10)
        await h.send(s, #"{"id":1,"connect":{"token":"\#(old)"}}"#)
        let reply = try #require(try h.messages(s).first)
        #expect(reply["error"]?["code"]?.int == 109)
        #expect(s.queue.closeReason == nil)
        await h.send(s, #"{"id":2,"connect":{"token":"\#(h.token("42"))"}}"#)
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func anonymousWithoutTokenRefusedUnlessAllowed() async throws {
        let h = try await SessionHarness()
        let s = ClientSession(node: h.node)
        await h.send(s, #"{"id":1,"connect":{}}"#)
        #expect(s.queue.closeReason == .badRequest)
        let open = try await SessionHarness(
            config: #"{"client":{"allow_anonymous_connect_without_token":true,"ping_interval":"-1"}}"#)
        let a = ClientSession(node: open.node)
        await open.send(a, #"{"id":1,"connect":{}}"#)
        #expect(try open.messages(a).first?["connect"] != nil)
    }

    @Test func subscribeThenPublicationsArriveInOrderWithOffsets() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:room","flag":1}}"#)
        let sub = try #require(try h.messages(s).first?["subscribe"])
        #expect(sub["recoverable"] == .bool(true))
        #expect(sub["positioned"] == .bool(true))
        #expect(sub["offset"] == nil)  // empty stream: offset 0 is omitted
        let epoch = try #require(sub["epoch"]?.str)
        for i in 1...3 { _ = try await h.publish("chat:room", "m\(i)") }
        let pushes = try h.messages(s)
        #expect(pushes.map { $0["push"]?["pub"]?["offset"]?.int } == [1, 2, 3])
        #expect(pushes.allSatisfy { $0["push"]?["channel"]?.str == "chat:room" })
        #expect(try await h.node.history(channel: "chat:room", filter: .topOnly).top.epoch == epoch)
    }

    @Test func subscribeErrors() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"nope:x"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 102)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"locked:x"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 103)
        let long = String(repeating: "a", count: 256)
        await h.send(s, #"{"id":4,"subscribe":{"channel":"\#(long)"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 107)
        await h.send(s, #"{"id":5,"subscribe":{"channel":"chat:é"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 107)
        await h.send(s, #"{"id":6,"subscribe":{"channel":"chat:a"}}"#)
        _ = try h.messages(s)
        await h.send(s, #"{"id":7,"subscribe":{"channel":"chat:a"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 105)
        await h.send(s, #"{"id":8,"subscribe":{"channel":"$chat:private"}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 103)
        #expect(s.queue.closeReason == nil)
        await h.send(s, #"{"id":9,"subscribe":{"channel":""}}"#)
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func recoveryReturnsExactlyTheMissedPublications() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        for i in 1...2 { _ = try await h.publish("chat:r", "old\(i)") }
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:r"}}"#)
        let first = try #require(try h.messages(s).first?["subscribe"])
        let epoch = try #require(first["epoch"]?.str)
        #expect(first["offset"]?.int == 2)
        await h.send(s, #"{"id":3,"unsubscribe":{"channel":"chat:r"}}"#)
        _ = try h.messages(s)
        for i in 3...5 { _ = try await h.publish("chat:r", "m\(i)") }
        await h.send(s, #"{"id":4,"subscribe":{"channel":"chat:r","recover":true,"offset":2,"epoch":"\#(epoch)"}}"#)
        let sub = try #require(try h.messages(s).first?["subscribe"])
        #expect(sub["recovered"] == .bool(true))
        #expect(sub["was_recovering"] == .bool(true))
        #expect(sub["offset"]?.int == 2)  // the request's offset: the client advances it itself
        #expect(sub["publications"]?.items.map { $0["offset"]?.int } == [3, 4, 5])
        _ = try await h.publish("chat:r", "live")
        #expect(try h.messages(s).map { $0["push"]?["pub"]?["offset"]?.int } == [6])
    }

    @Test func recoveryBeyondHistoryOrOtherEpochIsNotRecovered() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        for i in 1...15 { _ = try await h.publish("chat:big", "m\(i)") }
        let epoch = try await h.node.history(channel: "chat:big", filter: .topOnly).top.epoch
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:big","recover":true,"offset":1,"epoch":"\#(epoch)"}}"#)
        let sub = try #require(try h.messages(s).first?["subscribe"])
        #expect(sub["recovered"] == nil)
        #expect(sub["was_recovering"] == .bool(true))
        #expect(sub["publications"] == nil)
        #expect(sub["offset"]?.int == 15)
        #expect(sub["recovery_failure"] == .string("older_than_history"))
        await h.send(s, #"{"id":4,"subscribe":{"channel":"chat:big2","recover":true,"offset":1,"epoch":"gone"}}"#)
        #expect(try h.messages(s).first?["subscribe"]?["recovery_failure"] == .string("epoch_changed"))
        await h.send(s, #"{"id":3,"subscribe":{"channel":"chat:e","recover":true,"offset":1,"epoch":"other","flag":3}}"#)
        #expect(try h.messages(s).first?["error"]?["code"]?.int == 112)
        #expect(s.queue.closeReason == nil)
    }

    @Test func cacheModeGivesLatestValue() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"cache:p","recover":true,"flag":2}}"#)
        let empty = try #require(try h.messages(s).first?["subscribe"])
        #expect(empty["recovered"] == nil)  // an empty cache is not an error even with the reject flag
        await h.send(s, #"{"id":3,"unsubscribe":{"channel":"cache:p"}}"#)
        _ = try h.messages(s)
        for i in 1...3 { _ = try await h.publish("cache:p", "v\(i)") }
        await h.send(s, #"{"id":4,"subscribe":{"channel":"cache:p","recover":true}}"#)
        let sub = try #require(try h.messages(s).first?["subscribe"])
        #expect(sub["recovered"] == .bool(true))
        let pubs = sub["publications"]?.items ?? []
        #expect(pubs.count == 1)
        #expect(pubs.first?["offset"]?.int == 3)
        #expect(pubs.first?["data"]?["t"]?.str == "v3")
    }

    @Test func gapInLiveDeliveryAsksClientToResubscribe() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:g"}}"#)
        _ = try h.messages(s)
        let pos = try await h.publish("chat:g", "one")
        _ = try h.messages(s)
        // A publication that skips offset 2, as a lost PUB/SUB message would look.
        let skipped = AppendResult(
            position: StreamPosition(offset: 3, epoch: pos.epoch), publication: Publication(offset: 3, data: Array("{}".utf8)))
        h.node.handlePublication(channel: "chat:g", result: skipped)
        let push = try #require(try h.messages(s).first?["push"])
        #expect(push["unsubscribe"]?["code"]?.int == 2500)
        #expect(push["unsubscribe"]?["reason"]?.str == "insufficient state")
    }

    @Test func duplicateOffsetIsDroppedSilently() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:d"}}"#)
        _ = try h.messages(s)
        let pos = try await h.publish("chat:d", "one")
        _ = try h.messages(s)
        h.node.handlePublication(
            channel: "chat:d", result: AppendResult(position: pos, publication: Publication(offset: pos.offset, data: Array("{}".utf8))))
        #expect(try h.messages(s).isEmpty)
    }

    @Test func slowClientOverflowDisconnects3008WithoutBlockingOthers() async throws {
        let h = try await SessionHarness(
            config: """
                {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","queue_max_size":2000},
                 "channel":{"without_namespace":{"allow_subscribe_for_client":true}}}
                """)
        let slow = try await h.connected("1")
        await h.send(slow, #"{"id":2,"subscribe":{"channel":"news"}}"#)
        _ = try h.messages(slow)
        for i in 0..<100 { _ = try await h.publish("news", "message number \(i)") }
        #expect(slow.queue.closeReason == .slow)
        let fresh = try await h.connected("2")
        await h.send(fresh, #"{"id":2,"subscribe":{"channel":"news"}}"#)
        #expect(try h.messages(fresh).first?["subscribe"] != nil)
    }

    @Test func pongWithoutPingIsBadRequest() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, "{}")
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func severalCommandsInOneFrameAnswerInOrder() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, "{\"id\":2,\"subscribe\":{\"channel\":\"chat:m\"}}\n{\"id\":3,\"publish\":{\"channel\":\"chat:m\",\"data\":{\"x\":1}}}\n{\"id\":4,\"history\":{\"channel\":\"chat:m\",\"limit\":10}}")
        let all = try h.messages(s)
        let ids = all.compactMap { $0["id"]?.int }
        #expect(ids == [2, 3, 4])
        let history = try #require(all.first { $0["id"]?.int == 4 }?["history"])
        #expect(history["publications"]?.items.first?["data"]?["x"]?.int == 1)
        #expect(history["publications"]?.items.first?["info"]?["user"]?.str == "42")
    }

    @Test func malformedSecondCommandStillAnswersFirst() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, "{\"id\":2,\"subscribe\":{\"channel\":\"chat:x\"}}\n{not json")
        #expect(try h.messages(s).first?["id"]?.int == 2)
        #expect(s.queue.closeReason == .badRequest)
    }

    @Test func joinAndLeaveReachOtherSubscribers() async throws {
        let h = try await SessionHarness()
        let a = try await h.connected("a")
        let b = try await h.connected("b")
        await h.send(a, #"{"id":2,"subscribe":{"channel":"chat:j"}}"#)
        _ = try h.messages(a)
        await h.send(b, #"{"id":2,"subscribe":{"channel":"chat:j"}}"#)
        let join = try #require(try h.messages(a).first?["push"]?["join"]?["info"])
        #expect(join["user"]?.str == "b")
        await h.send(b, #"{"id":3,"unsubscribe":{"channel":"chat:j"}}"#)
        let leave = try #require(try h.messages(a).first?["push"]?["leave"]?["info"])
        #expect(leave["client"]?.str == b.id)
        await h.send(a, #"{"id":3,"presence_stats":{"channel":"chat:j"}}"#)
        let stats = try #require(try h.messages(a).first?["presence_stats"])
        #expect(stats["num_clients"]?.int == 1)
    }
}
