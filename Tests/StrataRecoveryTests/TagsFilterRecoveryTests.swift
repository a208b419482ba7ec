import StrataCore
import StrataRecovery
import Testing

/// Recovery through a tags filter: whether a stream is recovered is decided on every
/// publication, and only the matching ones are delivered; a cache channel's latest value is the
/// newest publication that matches.
@Suite("SubscribeDecision with a tags filter")
struct TagsFilterRecoveryTests {
    /// Offset `o` tagged `k` = "a" when `o` is odd, "b" when even.
    static func pub(_ o: UInt64) -> Publication {
        Publication(offset: o, data: Array("\(o)".utf8), tags: ["k": o % 2 == 1 ? "a" : "b"])
    }

    static let odd = try! TagsFilter(FilterNode(key: "k", cmp: "eq", val: "a"))

    func decide(
        _ mode: SubscribeDecision.Mode, since: UInt64, read: [UInt64], top: UInt64, buffered: [UInt64] = [], epoch: String = "E"
    ) -> SubscribeDecision.Positioned? {
        let input = SubscribeDecision.Input(
            mode: mode, recovering: true, since: StreamPosition(offset: since, epoch: epoch), rejectUnrecovered: false,
            read: HistoryResult(publications: read.map(Self.pub), top: StreamPosition(offset: top, epoch: "E")),
            buffered: buffered.map { (Self.pub($0), "E") }, tagsFilter: Self.odd)
        guard case .positioned(let p) = SubscribeDecision.decide(input) else { return nil }
        return p
    }

    @Test func streamRecoveryDeliversOnlyMatchingButPositionsAtTheTop() throws {
        let p = try #require(decide(.stream, since: 2, read: [3, 4, 5, 6], top: 6, buffered: [7, 8]))
        #expect(p.recovery == .recovered)
        #expect(p.publications.map(\.offset) == [3, 5, 7])
        #expect(p.inReply == 3)
        #expect(p.position.offset == 8, "the live position continues after every offset, filtered or not")
    }

    @Test func streamRecoveryWithNothingMatchingIsStillRecovered() throws {
        let p = try #require(decide(.stream, since: 3, read: [4], top: 4))
        #expect(p.recovery == .recovered && p.publications.isEmpty && p.position.offset == 4)
    }

    @Test func trimmedHistoryIsNotRecoveredEvenIfTheMissingOnesWouldNotMatch() throws {
        let p = try #require(decide(.stream, since: 1, read: [3, 4], top: 4))
        #expect(p.recovery == .notRecovered && p.publications.isEmpty)
    }

    @Test func cacheRecoveryGivesTheNewestMatchingValue() throws {
        // Read newest first, as the cache read is reverse.
        let p = try #require(decide(.cache(latestOnly: true), since: 0, read: [6, 5, 4], top: 6))
        #expect(p.recovery == .recovered)
        #expect(p.publications.map(\.offset) == [5])
        #expect(p.position.offset == 6)
    }

    @Test func cacheRecoveryOfAClientThatHoldsTheValue() throws {
        let p = try #require(decide(.cache(latestOnly: true), since: 5, read: [6, 5, 4], top: 6))
        #expect(p.recovery == .recovered && p.publications.isEmpty)
        // Another epoch: it does not hold it.
        let q = try #require(decide(.cache(latestOnly: true), since: 5, read: [6, 5, 4], top: 6, epoch: "OLD"))
        #expect(q.publications.map(\.offset) == [5])
    }

    @Test func cacheRecoveryWithNoMatchIsNotRecovered() throws {
        let p = try #require(decide(.cache(latestOnly: true), since: 0, read: [6, 4], top: 6))
        #expect(p.recovery == .notRecovered && p.publications.isEmpty)
    }

    @Test func cacheRecoveryWithPublicationsBufferedMeanwhile() throws {
        // The matching value (5) is older than the top (6); 7 and 8 arrived while reading.
        let p = try #require(decide(.cache(latestOnly: false), since: 0, read: [6, 5, 4], top: 6, buffered: [7, 8]))
        #expect(p.recovery == .recovered)
        #expect(p.publications.map(\.offset) == [5, 7])
        #expect(p.position.offset == 8)
        let latest = try #require(decide(.cache(latestOnly: true), since: 0, read: [6, 5, 4], top: 6, buffered: [7, 8]))
        #expect(latest.publications.map(\.offset) == [7])
    }
}
