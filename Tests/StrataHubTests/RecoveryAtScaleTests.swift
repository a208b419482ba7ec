import StrataCore
import StrataHistory
import StrataProtocol
import Testing
import Synchronization

@testable import StrataHub

@Suite("Recovery at scale")
struct RecoveryAtScaleTests {
    @Test func massResubscribeCostsAboutOneStoreRead() async throws {
        let h = try await SessionHarness()
        for i in 1...20 { _ = try await h.publish("chat:storm", "m\(i)") }
        let epoch = try await h.node.history(channel: "chat:storm", filter: .topOnly).top.epoch
        var sessions: [ClientSession] = []
        for i in 0..<300 { sessions.append(try await h.connected("u\(i)")) }
        let before = h.node.streamReads.withLock { $0 }
        await withTaskGroup(of: Void.self) { group in
            for s in sessions {
                group.addTask {
                    await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:storm","recover":true,"offset":10,"epoch":"\#(epoch)"}}"#)
                }
            }
        }
        let reads = h.node.streamReads.withLock { $0 } - before
        #expect(reads <= 3, "300 identical recoveries made \(reads) store reads")
        for s in sessions {
            let sub = try #require(try h.messages(s).first?["subscribe"])
            #expect(sub["recovered"] == .bool(true))
            #expect(sub["publications"]?.items.map { $0["offset"]?.int } == (11...20).map { Int64($0) })
        }
    }

    @Test func aPublicationInvalidatesCachedReads() async throws {
        let h = try await SessionHarness()
        _ = try await h.publish("chat:c", "a")
        let a = try await h.connected("a")
        await h.send(a, #"{"id":2,"subscribe":{"channel":"chat:c"}}"#)
        #expect(try h.messages(a).first?["subscribe"]?["offset"]?.int == 1)
        _ = try await h.publish("chat:c", "b")
        let b = try await h.connected("b")
        await h.send(b, #"{"id":2,"subscribe":{"channel":"chat:c"}}"#)
        #expect(try h.messages(b).first?["subscribe"]?["offset"]?.int == 2)
    }

    @Test func longGapIsStreamedAfterTheReplyWhenEnabled() async throws {
        let h = try await SessionHarness(
            config: """
                {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","recovery_max_publication_limit":5,
                  "recovery_stream_max_publication_limit":50},
                 "channel":{"namespaces":[{"name":"chat","history_size":100,"history_ttl":"300s","force_recovery":true,
                  "allow_subscribe_for_client":true}]}}
                """)
        let s = try await h.connected()
        for i in 1...3 { _ = try await h.publish("chat:gap", "m\(i)") }
        let epoch = try await h.node.history(channel: "chat:gap", filter: .topOnly).top.epoch
        for i in 4...23 { _ = try await h.publish("chat:gap", "m\(i)") }
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:gap","recover":true,"offset":3,"epoch":"\#(epoch)"}}"#)
        _ = try await h.publish("chat:gap", "live")
        let all = try h.messages(s)
        let reply = try #require(all.first?["subscribe"])
        #expect(reply["recovered"] == .bool(true))
        #expect(reply["offset"]?.int == 3)
        #expect(reply["publications"]?.items.map { $0["offset"]?.int } == [4, 5, 6, 7, 8])
        // The rest, in order, then the live publication: 9…23, 24.
        #expect(all.dropFirst().map { $0["push"]?["pub"]?["offset"]?.int } == (9...24).map { Int64($0) })
    }

    @Test func withoutStreamingALongGapIsNotRecovered() async throws {
        let h = try await SessionHarness(
            config: """
                {"client":{"token":{"hmac_secret_key":"secret"},"ping_interval":"-1","recovery_max_publication_limit":5},
                 "channel":{"namespaces":[{"name":"chat","history_size":100,"history_ttl":"300s","force_recovery":true,
                  "allow_subscribe_for_client":true}]}}
                """)
        let s = try await h.connected()
        _ = try await h.publish("chat:gap", "m1")
        let epoch = try await h.node.history(channel: "chat:gap", filter: .topOnly).top.epoch
        for i in 2...10 { _ = try await h.publish("chat:gap", "m\(i)") }
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:gap","recover":true,"offset":1,"epoch":"\#(epoch)"}}"#)
        let reply = try #require(try h.messages(s).first?["subscribe"])
        #expect(reply["recovered"] == nil)
        #expect(reply["publications"] == nil)
        #expect(reply["offset"]?.int == 10)
    }

    @Test func positionCheckFindsAPublicationLostOnTheWay() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:quiet"}}"#)
        _ = try h.messages(s)
        // Appended, but never broadcast: as if the PUB/SUB message were dropped.
        _ = try await h.store.append(
            channel: "chat:quiet", publication: Publication(data: Array("{}".utf8)),
            options: AppendOptions(retention: StreamRetention(size: 10, ttlSeconds: 300, metaTTLSeconds: 3600)), onCommit: { _ in })
        h.clock.advance(seconds: 1)
        await s.checkPositions(nowMillis: h.clock.nowMillis())
        #expect(try h.messages(s).isEmpty, "checked before channel_position_check_delay")
        h.clock.advance(seconds: 40)
        await s.checkPositions(nowMillis: h.clock.nowMillis())
        let push = try #require(try h.messages(s).first?["push"])
        #expect(push["unsubscribe"]?["code"]?.int == 2500)
    }

    @Test func positionCheckLeavesAnUpToDateSubscriptionAlone() async throws {
        let h = try await SessionHarness()
        let s = try await h.connected()
        await h.send(s, #"{"id":2,"subscribe":{"channel":"chat:fine"}}"#)
        _ = try await h.publish("chat:fine", "x")
        _ = try h.messages(s)
        h.clock.advance(seconds: 41)
        await s.checkPositions(nowMillis: h.clock.nowMillis())
        #expect(try h.messages(s).isEmpty)
        #expect(s.state.withLock { $0.subscriptions["chat:fine"] != nil })
    }
}
