import StrataCore
import Testing

@testable import StrataRedis

@Suite("StreamWatermarks")
struct StreamWatermarksTests {
    @Test func seenKeepsTheNewestPositionOfTheLatestEpoch() {
        let marks = StreamWatermarks()
        #expect(marks.seen("a") == nil)
        marks.saw("a", StreamPosition(offset: 5, epoch: "E"))
        marks.saw("a", StreamPosition(offset: 3, epoch: "E"))  // an older read answering late
        #expect(marks.seen("a") == StreamPosition(offset: 5, epoch: "E"))
        marks.saw("a", StreamPosition(offset: 1, epoch: "F"))  // a new epoch replaces the old one
        #expect(marks.seen("a") == StreamPosition(offset: 1, epoch: "F"))
    }

    /// PUB/SUB brings a stream's offsets in order: one that is not past the last in the same
    /// epoch is the stream going back; a new epoch starts over. Appends running ahead of the
    /// deliveries (this node's own publishes) are not a regression.
    @Test func aDeliveryThatGoesBackInTheSameEpochIsRefused() {
        let marks = StreamWatermarks()
        marks.saw("a", StreamPosition(offset: 7, epoch: "E"))
        for offset in UInt64(1)...5 { #expect(marks.delivered("a", StreamPosition(offset: offset, epoch: "E"))) }
        #expect(!marks.delivered("a", StreamPosition(offset: 4, epoch: "E")))
        #expect(!marks.delivered("a", StreamPosition(offset: 5, epoch: "E")))
        #expect(marks.delivered("a", StreamPosition(offset: 6, epoch: "E")))
        #expect(marks.delivered("a", StreamPosition(offset: 1, epoch: "F")))
        #expect(marks.delivered("b", StreamPosition(offset: 1, epoch: "E")))
        #expect(marks.seen("a") == StreamPosition(offset: 1, epoch: "F"))
    }

    /// Bounded: a channel untouched for a whole generation is forgotten; one touched is kept.
    @Test func untouchedChannelsAreForgottenAfterTwoGenerations() {
        let marks = StreamWatermarks(capacity: 8)
        marks.saw("kept", StreamPosition(offset: 1, epoch: "E"))
        marks.saw("dropped", StreamPosition(offset: 1, epoch: "E"))
        for i in 0..<6 {
            marks.saw("c\(i)", StreamPosition(offset: 1, epoch: "E"))
            _ = marks.seen("kept")  // reading does not keep a channel; touching it does
            marks.saw("kept", StreamPosition(offset: UInt64(i + 2), epoch: "E"))
        }
        #expect(marks.seen("kept") == StreamPosition(offset: 7, epoch: "E"))
        #expect(marks.seen("dropped") == nil)
    }
}

@Suite("Redis eviction check")
struct RedisEvictionCheckTests {
    @Test(arguments: [
        ("maxmemory:0\r\nmaxmemory_policy:allkeys-lru\r\n", false),  // no limit: nothing is evicted
        ("maxmemory:104857600\r\nmaxmemory_policy:noeviction\r\n", false),
        ("# Memory\r\nused_memory:1\r\nmaxmemory:104857600\r\nmaxmemory_policy:volatile-lru\r\n", true),  // history keys have TTLs
        ("maxmemory:104857600\r\nmaxmemory_policy:allkeys-lfu\r\n", true),
        ("garbage", false),
    ])
    func flagsEveryPolicyThatMayEvictWithALimit(_ info: String, _ flagged: Bool) {
        #expect((RedisEvictionCheck.problem(infoMemory: info) != nil) == flagged)
    }
}
