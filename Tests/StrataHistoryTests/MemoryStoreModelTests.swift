import StrataCore
import StrataHistory
import StrataTesting
import Testing

/// Property test: random operation sequences against the store and against a plain reference
/// model of the stream semantics; every read must agree.
@Suite("MemoryHistoryStore model")
struct MemoryStoreModelTests {
    struct Model {
        var top: UInt64 = 0
        var entries: [UInt64] = []
        var lastAppend: Int64 = 0
        let size: Int
        let ttl: Int64

        mutating func expire(now: Int64) {
            if !entries.isEmpty, now >= lastAppend + ttl * 1000 { entries = [] }
        }

        mutating func append(now: Int64) -> UInt64 {
            expire(now: now)
            top += 1
            entries.append(top)
            if entries.count > size { entries.removeFirst(entries.count - size) }
            lastAppend = now
            return top
        }

        func read(since: UInt64?, limit: Int, reverse: Bool) -> [UInt64] {
            var list = entries
            if let since {
                list = reverse ? list.filter { $0 < since } : list.filter { $0 > since }
                if reverse, let first = entries.first, since <= first { list = [] }
            }
            if reverse { list.reverse() }
            if limit >= 0 { list = Array(list.prefix(limit)) }
            return list
        }
    }

    @Test(arguments: 1...20)
    func randomSequencesMatchModel(seed: UInt64) async throws {
        var rng = SplitMix(state: seed)
        let size = Int.random(in: 1...6, using: &rng)
        let retention = StreamRetention(size: size, ttlSeconds: 10, metaTTLSeconds: 100_000)
        let clock = ManualClock()
        let store = MemoryHistoryStore(clock: clock)
        var model = Model(size: size, ttl: 10)
        var epoch = ""
        for _ in 0..<120 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...4:
                let r = try await store.append(
                    channel: "ch", publication: Publication(data: [1]), options: AppendOptions(retention: retention), onCommit: { _ in })
                let expected = model.append(now: clock.nowMillis())
                #expect(r.position.offset == expected)
                if epoch.isEmpty { epoch = r.position.epoch }
                #expect(r.position.epoch == epoch)
            case 5:
                clock.advance(seconds: Int64.random(in: 1...12, using: &rng))
                model.expire(now: clock.nowMillis())
            case 6:
                try await store.removeHistory(channel: "ch")
                model.entries = []
            default:
                model.expire(now: clock.nowMillis())
                let useSince = Bool.random(using: &rng) && model.top > 0
                let since = useSince ? UInt64.random(in: 1...model.top, using: &rng) : nil
                let reverse = Bool.random(using: &rng)
                let limit = [-1, 0, 1, 2, 5].randomElement(using: &rng)!
                let read = try await store.history(
                    channel: "ch",
                    filter: HistoryFilter(since: since.map { StreamPosition(offset: $0, epoch: epoch) }, limit: limit, reverse: reverse),
                    metaTTLSeconds: 100_000)
                #expect(read.publications.map(\.offset) == model.read(since: since, limit: limit, reverse: reverse))
                #expect(read.top.offset == model.top)
                if !epoch.isEmpty { #expect(read.top.epoch == epoch) } else { epoch = read.top.epoch }
            }
        }
    }
}
