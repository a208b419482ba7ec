import StrataCore
import StrataHistory
import StrataTesting
import Testing

@testable import StrataLMDB

/// Property test: random operation sequences (appends on several channels, clock jumps past TTLs,
/// removals, sweeps, reads, and closing and reopening the environment) give the same results on
/// LMDB as on the memory store. Epoch strings differ between stores, so epochs are compared by
/// when they change.
@Suite("LMDB vs memory model")
struct LMDBModelTests {
    @Test(arguments: 1...12)
    func randomSequencesAgreeAcrossReopen(seed: UInt64) async throws {
        var rng = SplitMix(state: seed &* 7919)
        let retention = StreamRetention(size: Int.random(in: 1...8, using: &rng), ttlSeconds: 20, metaTTLSeconds: 90)
        let clock = ManualClock()
        let path = temporaryDirectory("model")
        let memory = MemoryHistoryStore(clock: clock)
        var lmdb = try LMDBHistoryStore(options: LMDBStoreOptions(path: path, compressMinSize: 8, sweepBatch: 3), clock: clock)
        let channels = ["a", "b:" + String(repeating: "x", count: 600), "c"]
        var epochs: [String: (memory: String, lmdb: String)] = [:]

        func checkEpochs(_ ch: String, _ m: String, _ l: String) {
            guard !m.isEmpty else { return }
            if let known = epochs[ch] {
                // Both stores start a new epoch at the same moments, or neither does.
                #expect((known.memory == m) == (known.lmdb == l), "epoch change disagrees on \(ch)")
            }
            epochs[ch] = (m, l)
        }

        for step in 0..<150 {
            let ch = channels.randomElement(using: &rng)!
            switch Int.random(in: 0..<12, using: &rng) {
            case 0...4:
                let data = Array("{\"s\":\(step)}".utf8)
                let opts = AppendOptions(retention: retention)
                let m = try await memory.append(channel: ch, publication: Publication(data: data), options: opts, onCommit: { _ in })
                let l = try await lmdb.append(channel: ch, publication: Publication(data: data), options: opts, onCommit: { _ in })
                #expect(m.position.offset == l.position.offset, "append offset at step \(step)")
                checkEpochs(ch, m.position.epoch, l.position.epoch)
            case 5:
                clock.advance(seconds: Int64.random(in: 1...40, using: &rng))
            case 6:
                try await memory.removeHistory(channel: ch)
                try await lmdb.removeHistory(channel: ch)
            case 7:
                await memory.sweepExpired()
                await lmdb.sweepExpired()
            case 8:
                lmdb.close()
                lmdb = try LMDBHistoryStore(options: LMDBStoreOptions(path: path, compressMinSize: 8, sweepBatch: 3), clock: clock)
            default:
                let reverse = Bool.random(using: &rng)
                let limit = [-1, 0, 1, 3].randomElement(using: &rng)!
                let top = try await memory.history(channel: ch, filter: .topOnly, metaTTLSeconds: 90).top
                _ = try await lmdb.history(channel: ch, filter: .topOnly, metaTTLSeconds: 90)
                let sinceOffset: UInt64? = top.offset > 0 && Bool.random(using: &rng) ? UInt64.random(in: 1...top.offset, using: &rng) : nil
                let mRead = try await memory.history(
                    channel: ch, filter: HistoryFilter(since: sinceOffset.map { StreamPosition(offset: $0, epoch: "") }, limit: limit, reverse: reverse),
                    metaTTLSeconds: 90)
                let lRead = try await lmdb.history(
                    channel: ch, filter: HistoryFilter(since: sinceOffset.map { StreamPosition(offset: $0, epoch: "") }, limit: limit, reverse: reverse),
                    metaTTLSeconds: 90)
                #expect(mRead.publications.map(\.offset) == lRead.publications.map(\.offset), "read offsets at step \(step)")
                #expect(mRead.publications.map(\.data) == lRead.publications.map(\.data), "read data at step \(step)")
                #expect(mRead.top.offset == lRead.top.offset, "top at step \(step)")
                checkEpochs(ch, mRead.top.epoch, lRead.top.epoch)
            }
        }
        lmdb.close()
    }
}
