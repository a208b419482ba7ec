import StrataBroker
import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataRedis

typealias RecordingHandler = BrokerEventRecorder

@Suite("RedisBroker: nodes on one Redis", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisBrokerTests {
    static let retention = StreamRetention(size: 100, ttlSeconds: 60, metaTTLSeconds: 3600)

    /// Two brokers (two nodes) on the same servers and prefix.
    func twoNodes(_ servers: [RedisServer], prefix: String = "n\(RandomID.uuidString().prefix(6))") async throws
        -> (RedisBroker, RecordingHandler, RedisBroker, RecordingHandler)
    {
        func node() async throws -> (RedisBroker, RecordingHandler) {
            let broker = RedisBroker(store: RedisHistoryStore(shards: RedisShards(servers.map(\.configuration), prefix: prefix, poolSize: 2)))
            let handler = RecordingHandler()
            try await broker.start(handler: handler)
            return (broker, handler)
        }
        let (a, ha) = try await node()
        let (b, hb) = try await node()
        return (a, ha, b, hb)
    }

    func publish(_ broker: RedisBroker, _ channel: String, _ text: String, delta: Bool = false, history: Bool = true) async throws
        -> AppendResult
    {
        let retention = history ? Self.retention : StreamRetention(size: 0, ttlSeconds: 0, metaTTLSeconds: 0)
        return try await broker.publish(
            channel: channel, publication: Publication(data: Array(text.utf8)), options: AppendOptions(retention: retention, useDelta: delta))
    }

    @Test func publicationOnOneNodeReachesSubscribersOnTheOtherInOffsetOrder() async throws {
        try await withRedisServer { server in
            let (a, _, b, hb) = try await twoNodes([server])
            try await b.subscribe(channel: "news")
            var epoch = ""
            for i in 1...50 { epoch = try await publish(a, "news", "m\(i)").position.epoch }
            let events = try await hb.next(50)
            #expect(events == (1...50).map { .publication("news", UInt64($0), epoch, Array("m\($0)".utf8), previous: nil) })
            // History written by node A is read by node B.
            let read = try await b.history(channel: "news", filter: HistoryFilter(since: StreamPosition(offset: 45, epoch: epoch), limit: -1), metaTTLSeconds: 3600)
            #expect(read.publications.map(\.offset) == [46, 47, 48, 49, 50])
            await a.close()
            await b.close()
        }
    }

    @Test func deltaCarriesPreviousPublicationAndUnpositionedHasNoOffset() async throws {
        try await withRedisServer { server in
            let (a, _, b, hb) = try await twoNodes([server])
            try await b.subscribe(channel: "d")
            _ = try await publish(a, "d", "one", delta: true)
            _ = try await publish(a, "d", "two", delta: true)
            _ = try await publish(a, "d", "plain", history: false)
            let events = try await hb.next(3)
            guard case .publication(_, 1, _, _, let p1) = events[0], case .publication(_, 2, _, let d2, let p2) = events[1],
                case .publication(_, 0, "", let d3, nil) = events[2]
            else {
                Issue.record("unexpected \(events)")
                return
            }
            #expect(p1 == nil)
            #expect(d2 == Array("two".utf8) && p2 == Array("one".utf8))
            #expect(d3 == Array("plain".utf8))
            await a.close()
            await b.close()
        }
    }

    @Test func joinLeaveAndUnsubscribe() async throws {
        try await withRedisServer { server in
            let (a, _, b, hb) = try await twoNodes([server])
            try await b.subscribe(channel: "room")
            try await a.publishJoin(channel: "room", info: ClientInfo(user: "u", client: "c1"))
            try await a.publishLeave(channel: "room", info: ClientInfo(user: "u", client: "c1"))
            #expect(try await hb.next(2) == [.join("room", "c1"), .leave("room", "c1")])
            try await b.unsubscribe(channel: "room")
            _ = try await publish(a, "room", "unheard")
            try await b.subscribe(channel: "other")
            _ = try await publish(a, "other", "heard")
            let next = try await hb.next(1)
            guard case .publication("other", 1, _, _, _) = next[0] else {
                Issue.record("expected only the other channel, got \(next)")
                return
            }
            await a.close()
            await b.close()
        }
    }

    /// Channels spread over two servers still reach the other node, each from its own shard.
    @Test func shardedChannelsReachTheOtherNode() async throws {
        try await withRedisServer { first in
            try await withRedisServer { second in
                let (a, _, b, hb) = try await twoNodes([first, second])
                let channels = (0..<20).map { "ch\($0)" }
                for c in channels { try await b.subscribe(channel: c) }
                for c in channels { _ = try await publish(a, c, c) }
                let events = try await hb.next(20)
                var got: Set<String> = []
                for e in events { if case .publication(let c, 1, _, let data, _) = e, data == Array(c.utf8) { got.insert(c) } }
                #expect(got == Set(channels))
                // Both servers hold some of the streams.
                let shards = RedisShards([first.configuration, second.configuration], prefix: "x")
                #expect(Set(channels.map { shards.index(for: $0) }) == [0, 1])
                await a.close()
                await b.close()
            }
        }
    }

    /// Redis restarts (losing its data): publishing fails while it is down, the subscriber
    /// reconnects and reports the gap, and the stream continues under a new epoch.
    @Test func redisRestartReportsGapAndNewEpoch() async throws {
        try await withRedisServer { server in
            let (a, _, b, hb) = try await twoNodes([server])
            try await b.subscribe(channel: "r")
            let before = try await publish(a, "r", "before")
            _ = try await hb.next(1)
            server.kill()
            await #expect(throws: RedisError.self) { _ = try await publish(a, "r", "lost") }
            try await server.launch()
            #expect(try await hb.next(1, within: .seconds(15)) == [.gap(["r"])])
            var after: AppendResult?
            for _ in 0..<50 where after == nil {
                after = try? await publish(a, "r", "after")
                if after == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let result = try #require(after)
            #expect(result.position.offset == 1 && result.position.epoch != before.position.epoch)
            let events = try await hb.next(1)
            #expect(events == [.publication("r", 1, result.position.epoch, Array("after".utf8), previous: nil)])
            await a.close()
            await b.close()
        }
    }
}

@Suite("RedisPresenceManager", .enabled(if: RedisServer.isAvailable, "redis-server is not installed"))
struct RedisPresenceTests {
    @Test func addGetRemoveStatsAndExpiry() async throws {
        try await withRedisServer { server in
            let clock = ManualClock()
            let shards = RedisShards([server.configuration], prefix: "p", poolSize: 1)
            let presence = RedisPresenceManager(shards: shards, ttlSeconds: 60, clock: clock)
            let c1 = ClientInfo(user: "u1", client: "c1", connInfo: Array("{\"n\":1}".utf8))
            try await presence.add(channel: "room", info: c1)
            try await presence.add(channel: "room", info: ClientInfo(user: "u1", client: "c2"))
            try await presence.add(channel: "room", info: ClientInfo(user: "u2", client: "c3"))
            #expect(try await presence.presence(channel: "room").map(\.client) == ["c1", "c2", "c3"])
            #expect(try await presence.presence(channel: "room").first == c1)
            let stats = try await presence.stats(channel: "room")
            #expect(stats.numClients == 3 && stats.numUsers == 2)
            try await presence.remove(channel: "room", clientID: "c2")
            #expect(try await presence.presence(channel: "room").map(\.client) == ["c1", "c3"])
            // c1 is refreshed, c3 is not: after the ttl only c1 is left.
            clock.advance(seconds: 40)
            try await presence.add(channel: "room", info: c1)
            clock.advance(seconds: 30)
            #expect(try await presence.presence(channel: "room").map(\.client) == ["c1"])
            await shards.close()
        }
    }
}
