import StrataCore
import Testing

@testable import StrataHub

/// When a page of `GET /api/history/{channel}` may be cached for ever, and what it links to.
@Suite("HistoryPage")
struct HistoryPageTests {
    func page(since: UInt64, epoch: String, limit: Int, offsets: [UInt64], top: UInt64 = 100) -> HistoryPage {
        var request = HistoryPage.Request(channel: "c")
        request.since = since
        request.epoch = epoch
        request.limit = limit
        return HistoryPage(
            request: request, publications: offsets.map { Publication(offset: $0, data: Array("1".utf8)) },
            top: StreamPosition(offset: top, epoch: "E"))
    }

    @Test func onlyAFullPageOfANamedEpochIsImmutable() {
        #expect(page(since: 4, epoch: "E", limit: 3, offsets: [5, 6, 7]).isImmutable)
        // The newest offsets, complete: still fixed for good.
        #expect(page(since: 4, epoch: "E", limit: 3, offsets: [5, 6, 7], top: 7).isImmutable)
        #expect(!page(since: 4, epoch: "", limit: 3, offsets: [5, 6, 7]).isImmutable, "no epoch named")
        #expect(!page(since: 4, epoch: "D", limit: 3, offsets: [5, 6, 7]).isImmutable, "another epoch")
        #expect(!page(since: 4, epoch: "E", limit: 3, offsets: [5, 6], top: 6).isImmutable, "short: reached the top")
        #expect(!page(since: 1, epoch: "E", limit: 3, offsets: [5, 6, 7]).isImmutable, "trimmed: starts later than asked")
        #expect(!page(since: 4, epoch: "E", limit: 3, offsets: []).isImmutable)
    }

    @Test func tagsAndNextPage() throws {
        let full = page(since: 4, epoch: "E", limit: 3, offsets: [5, 6, 7])
        #expect(full.entityTag == "\"E:5-7\"")
        let short = page(since: 4, epoch: "", limit: 3, offsets: [5, 6], top: 6)
        #expect(short.entityTag == "\"E:5-6:6\"")
        let next = try #require(short.next)
        #expect(next.since == 6 && next.epoch == "E" && next.limit == 3)
        #expect(page(since: 6, epoch: "E", limit: 3, offsets: [], top: 6).next == nil)
    }

    @Test func linesAreThePublicationsOfTheAPI() {
        var p = page(since: 0, epoch: "E", limit: 2, offsets: [1, 2])
        p.publications[1].data = Array("not json".utf8)
        p.publications[1].isJSON = false
        #expect(String(decoding: p.jsonLines(), as: UTF8.self) == "{\"data\":1,\"offset\":1}\n{\"data\":\"not json\",\"offset\":2}\n")
    }
}
