import Testing
import StrataCore
import StrataRecovery

/// Publications with the given offsets; the payload names the offset (and an optional tag) so
/// tests can tell copies apart.
func pubs(_ offsets: [UInt64], tag: String = "") -> [Publication] {
    offsets.map { Publication(offset: $0, data: Array("\(tag)\($0)".utf8)) }
}

@Suite("StreamRecovery.isRecovered")
struct StreamRecoveryIsRecoveredTests {
    @Test("no publications: recovered only when the client is exactly at the top", arguments: [
        (UInt64(0), UInt64(0), true),
        (5, 5, true),
        (4, 5, false),  // something was missed but nothing is retained any more
        (0, 5, false),
        (6, 5, false),  // client claims to be ahead of the stream
    ] as [(UInt64, UInt64, Bool)])
    func noPublications(requestOffset: UInt64, top: UInt64, expected: Bool) {
        #expect(StreamRecovery.isRecovered(publications: [], requestOffset: requestOffset, top: top) == expected)
    }

    @Test func completeContinuationIsRecovered() {
        #expect(StreamRecovery.isRecovered(publications: pubs([6, 7, 8]), requestOffset: 5, top: 8))
        #expect(StreamRecovery.isRecovered(publications: pubs([1]), requestOffset: 0, top: 1))
        #expect(StreamRecovery.isRecovered(publications: pubs([10]), requestOffset: 9, top: 10))
    }

    @Test("first publication must directly follow the client's offset", arguments: [
        ([7, 8] as [UInt64], UInt64(5), UInt64(8)),  // offset 6 was trimmed
        ([5, 6, 7, 8], 5, 8),  // history starts at (not after) the client offset
        ([2, 3], 0, 3),
    ] as [([UInt64], UInt64, UInt64)])
    func firstMustFollowOffset(_ offsets: [UInt64], requestOffset: UInt64, top: UInt64) {
        #expect(!StreamRecovery.isRecovered(publications: pubs(offsets), requestOffset: requestOffset, top: top))
    }

    @Test("last publication must be the top (not cut by the read limit)", arguments: [
        ([6, 7] as [UInt64], UInt64(5), UInt64(8)),
        ([6], 5, 100),
        ([1, 2, 3], 0, 4),
    ] as [([UInt64], UInt64, UInt64)])
    func lastMustBeTop(_ offsets: [UInt64], requestOffset: UInt64, top: UInt64) {
        #expect(!StreamRecovery.isRecovered(publications: pubs(offsets), requestOffset: requestOffset, top: top))
    }
}

@Suite("StreamRecovery.merge")
struct StreamRecoveryMergeTests {
    @Test func emptyBufferPassesRecoveredThroughUnchanged() {
        let recovered = pubs([3, 1, 7])  // deliberately unordered and with holes: passed through as-is
        let m = StreamRecovery.merge(recovered: recovered, buffered: [])
        #expect(m.publications == recovered)
        #expect(m.contiguous)
        let none = StreamRecovery.merge(recovered: [], buffered: [])
        #expect(none.publications.isEmpty)
        #expect(none.contiguous)
    }

    @Test func overlappingBufferIsDeduplicatedByOffset() {
        let m = StreamRecovery.merge(recovered: pubs([4, 5, 6], tag: "h"), buffered: pubs([6, 7], tag: "b"))
        #expect(m.publications.map(\.offset) == [4, 5, 6, 7])
        #expect(m.contiguous)
        // Exactly one copy of offset 6 survives, whichever side it came from.
        #expect(m.publications.filter { $0.offset == 6 }.count == 1)
        #expect(m.publications.last?.data == Array("b7".utf8))
    }

    @Test func resultIsOrderedByOffset() {
        let m = StreamRecovery.merge(recovered: pubs([2, 3]), buffered: pubs([5, 4, 3]))
        #expect(m.publications.map(\.offset) == [2, 3, 4, 5])
        #expect(m.contiguous)
        let onlyBuffered = StreamRecovery.merge(recovered: [], buffered: pubs([9, 8, 10]))
        #expect(onlyBuffered.publications.map(\.offset) == [8, 9, 10])
        #expect(onlyBuffered.contiguous)
    }

    @Test func fullyDuplicatedBufferAddsNothing() {
        let m = StreamRecovery.merge(recovered: pubs([1, 2, 3]), buffered: pubs([1, 2, 3]))
        #expect(m.publications.map(\.offset) == [1, 2, 3])
        #expect(m.contiguous)
    }

    @Test("a hole makes the merge non-contiguous", arguments: [
        ([1, 2] as [UInt64], [4] as [UInt64]),
        ([], [5, 7]),
        ([10, 12], [13]),
        ([3], [3, 5]),
    ] as [([UInt64], [UInt64])])
    func holes(_ recovered: [UInt64], _ buffered: [UInt64]) {
        let m = StreamRecovery.merge(recovered: pubs(recovered), buffered: pubs(buffered))
        #expect(!m.contiguous)
        // Publications are still returned merged and ordered.
        #expect(m.publications.map(\.offset) == Array(Set(recovered + buffered)).sorted())
    }
}

@Suite("CacheRecovery.decide")
struct CacheRecoveryTests {
    let top = StreamPosition(offset: 57, epoch: "kLmNoPqR")

    @Test func emptyCacheWithClientAlreadyAtTopIsRecovered() {
        let o = CacheRecovery.decide(latest: nil, top: top, requestOffset: 57, requestEpoch: "kLmNoPqR")
        #expect(o == CacheRecovery.Outcome(recovered: true, publications: []))
    }

    @Test("empty cache otherwise is not recovered", arguments: [
        (UInt64(0), ""),  // SDK's empty `since`
        (0, "kLmNoPqR"),
        (56, "kLmNoPqR"),  // client behind but the value expired
        (57, "other"),  // epoch changed
        (57, ""),
        (58, "kLmNoPqR"),
    ] as [(UInt64, String)])
    func emptyCacheNotRecovered(requestOffset: UInt64, requestEpoch: String) {
        let o = CacheRecovery.decide(latest: nil, top: top, requestOffset: requestOffset, requestEpoch: requestEpoch)
        #expect(!o.recovered)
        #expect(o.publications.isEmpty)
    }

    @Test func emptyStreamAndZeroOffsetIsNotRecovered() {
        // requestOffset must be > 0 for "same state": an empty stream at 0 is not a recovery.
        let o = CacheRecovery.decide(latest: nil, top: StreamPosition(offset: 0, epoch: "e"), requestOffset: 0, requestEpoch: "e")
        #expect(!o.recovered)
    }

    @Test("latest at the top is delivered", arguments: [
        (UInt64(0), ""),
        (10, "kLmNoPqR"),  // client behind
        (57, "other"),  // epoch is not compared when a value exists
        (99, "kLmNoPqR"),
    ] as [(UInt64, String)])
    func latestDelivered(requestOffset: UInt64, requestEpoch: String) {
        let latest = Publication(offset: 57, data: Array(#"{"price":101234.5}"#.utf8))
        let o = CacheRecovery.decide(latest: latest, top: top, requestOffset: requestOffset, requestEpoch: requestEpoch)
        #expect(o == CacheRecovery.Outcome(recovered: true, publications: [latest]))
    }

    @Test func clientAlreadyHoldingTheLatestGetsNoPublications() {
        let latest = Publication(offset: 57, data: Array("1".utf8))
        let o = CacheRecovery.decide(latest: latest, top: top, requestOffset: 57, requestEpoch: "kLmNoPqR")
        #expect(o == CacheRecovery.Outcome(recovered: true, publications: []))
    }

    @Test("latest that is not the top is not recovered", arguments: [56, 1, 58] as [UInt64])
    func latestNotTop(latestOffset: UInt64) {
        let latest = Publication(offset: latestOffset, data: Array("1".utf8))
        let fresh = CacheRecovery.decide(latest: latest, top: top, requestOffset: 0, requestEpoch: "")
        #expect(fresh == CacheRecovery.Outcome(recovered: false, publications: []))
        let atTop = CacheRecovery.decide(latest: latest, top: top, requestOffset: 57, requestEpoch: "kLmNoPqR")
        #expect(!atTop.recovered)
        #expect(atTop.publications.isEmpty)
    }
}
