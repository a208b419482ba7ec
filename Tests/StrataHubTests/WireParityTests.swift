import StrataCore
import StrataProtocol
import Testing
import Synchronization

@testable import StrataHub

/// What client sessions send where Centrifugo v6.9.1 was found to send something else (issue 23,
/// part B: rows 3, 4, 6, 7, 9, 12), each case checked against the real binary.
@Suite("Wire parity with Centrifugo")
struct WireParityTests {
    static let config = """
        {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1"},
         "channel":{"without_namespace":{"allow_subscribe_for_client":true},
          "namespaces":[
           {"name":"chat","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true,
            "allow_history_for_subscriber":true,"presence":true,"join_leave":true,"allow_presence_for_subscriber":true},
           {"name":"delta","history_size":10,"history_ttl":"300s","force_recovery":true,"allow_subscribe_for_client":true,
            "allowed_delta_types":["fossil"]}]}}
        """

    /// Row 4: a subscriber that asks for joins gets its own, right after the subscribe reply.
    @Test func ownJoinFollowsTheSubscribeReply() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:j","join_leave":true}}"#)
        let messages = try h.messages(s)
        #expect(messages.count == 2)
        #expect(messages.first?["id"]?.int == 2)
        #expect(messages.last?["push"]?["join"]?["info"]?["client"]?.str == s.id)
        // Without join_leave asked for, no join is pushed (the namespace has no force_push_join_leave).
        let quiet = try await h.connected("7")
        await h.send(quiet, #"{"id":2,"subscribe":{"channel":"chat:j"}}"#)
        #expect(try h.messages(quiet).count == 1)
        #expect(try h.messages(s).compactMap { $0["push"]?["join"]?["info"]?["user"]?.str } == ["7"])
    }

    /// Row 6: the first publication of a stream carries the epoch on its live push.
    @Test func offsetOnePushCarriesTheEpoch() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:e"}}"#)
        let epoch = try #require(try h.messages(s).first?["subscribe"]?["epoch"]?.str)
        for i in 1...2 { _ = try await h.publish("chat:e", "m\(i)") }
        let pubs = try h.messages(s).compactMap { $0["push"]?["pub"] }
        #expect(pubs.map { $0["epoch"]?.str } == [epoch, nil])
    }

    /// Row 9: `was_recovering` reports the attempt even where the namespace cannot recover.
    @Test func wasRecoveringWithoutRecovery() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"plain","recover":true}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["was_recovering"] == .bool(true))
        #expect(reply["recovered"] == nil)
        await h.send(s, #"{"id":3,"subscribe":{"channel":"other"}}"#)
        #expect(try h.messages(s).first?["subscribe"]?["was_recovering"] == nil)
    }

    /// Row 12: a payload reaches subscribers byte for byte, minus raw newlines.
    @Test func payloadBytesReachSubscribers() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:b"}}"#)
        _ = try h.messages(s)
        _ = try await h.node.publish(channel: "chat:b", data: Array("{\"z\":1,  \"a\":\n[1.0]}".utf8))
        let frame = try #require(s.queue.takeAll().first)
        #expect(String(decoding: frame, as: UTF8.self).contains(#""data":{"z":1,  "a":[1.0]}"#))
    }

    /// Row 3: a payload that is not JSON ends JSON subscribers (3506) instead of breaking their
    /// frames; a delta subscriber, who gets `data` as a string, receives it.
    @Test func binaryPayloadEndsJSONSubscribers() async throws {
        let h = try await SessionHarness(config: Self.config)
        let json = try await h.connected()
        await h.send(json, #"{"id":2,"subscribe":{"channel":"delta:x"}}"#)
        let delta = try await h.connected("7")
        await h.send(delta, #"{"id":2,"subscribe":{"channel":"delta:x","delta":"fossil"}}"#)
        _ = try h.messages(json) + h.messages(delta)
        _ = try await h.node.publish(channel: "delta:x", data: Array("not json".utf8), isJSON: false)
        #expect(json.queue.closeReason == .inappropriateProtocol)
        #expect(try h.messages(json).isEmpty)
        #expect(delta.queue.closeReason == nil)
        #expect(try h.messages(delta).first?["push"]?["pub"]?["data"]?.str == "not json")
    }

    @Test func binaryPayloadInHistoryOrRecoveryEndsJSONClients() async throws {
        let h = try await SessionHarness(config: Self.config)
        _ = try await h.node.publish(channel: "chat:h", data: [0xFF, 0x00], isJSON: false)
        let reader = try await h.connected()
        await h.send(reader, #"{"id":2,"subscribe":{"channel":"chat:h"}}"#)
        #expect(try h.messages(reader).first?["subscribe"] != nil)
        await h.send(reader, #"{"id":3,"history":{"channel":"chat:h","limit":-1}}"#)
        #expect(reader.queue.closeReason == .inappropriateProtocol)
        #expect(try h.messages(reader).isEmpty)

        let recovering = try await h.connected("7")
        await h.send(recovering, #"{"id":2,"subscribe":{"channel":"chat:h","recover":true,"offset":0}}"#)
        #expect(recovering.queue.closeReason == .inappropriateProtocol)
        #expect(try h.messages(recovering).isEmpty)
        await recovering.cleanup()
        // The reader's disconnect cleans up in a task of its own: give it a moment.
        for _ in 0..<400 where !h.node.hub.subscribers("chat:h").isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(h.node.hub.subscribers("chat:h").isEmpty, "the failed subscription left the hub")
    }

    /// Row 7: the server API's refresh tells the client, as Centrifugo's push does.
    @Test func serverRefreshPushes() async throws {
        let h = try await SessionHarness(config: Self.config)
        let s = try await h.connected()
        let now = h.clock.nowSeconds()
        s.serverRefresh(expired: false, expireAt: now + 120, info: nil)
        #expect(try h.messages(s).first?["push"]?["refresh"] == (try JSONParser.parse(#"{"expires":true,"ttl":120}"#)))
        #expect(s.state.withLock { $0.expireAt } == now + 120)
        // No expiry (absent or 0): the connection no longer expires, and the push is empty.
        s.serverRefresh(expired: false, expireAt: nil, info: Array(#"{"v":2}"#.utf8))
        #expect(try h.messages(s).first?["push"]?["refresh"] == .object([]))
        #expect(s.state.withLock { $0.expireAt } == nil)
        #expect(s.clientInfo.connInfo == Array(#"{"v":2}"#.utf8))
        // Far expiries are capped a year ahead.
        s.serverRefresh(expired: false, expireAt: now + 10 * 365 * 86_400, info: nil)
        #expect(try h.messages(s).first?["push"]?["refresh"]?["ttl"]?.int == 365 * 86_400)
        // A past expiry, or `expired`, ends the connection.
        s.serverRefresh(expired: false, expireAt: now - 1, info: nil)
        #expect(s.queue.closeReason == .expired)
    }
}
