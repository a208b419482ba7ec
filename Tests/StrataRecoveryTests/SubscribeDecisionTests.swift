import StrataCore
import StrataRecovery
import Testing

/// The subscribe decision as a table: each row is the store's read, what was buffered meanwhile
/// and the request, and what must come out. Rows name the race or branch they pin.
@Suite("SubscribeDecision")
struct SubscribeDecisionTests {
    struct Row: CustomStringConvertible, Sendable {
        var name: String
        var mode: SubscribeDecision.Mode = .stream
        var recovering = true
        var since = StreamPosition(offset: 0, epoch: "E")
        var reject = false
        var read: [UInt64] = []
        var top = StreamPosition(offset: 0, epoch: "E")
        var buffered: [(UInt64, String)] = []
        var replyLimit = 0
        var streams = false
        var expected: Expected

        var description: String { name }
    }

    enum Expected: Sendable {
        case reject
        case insufficientState
        /// replyOffset, position offset, recovery, delivered offsets, how many in the reply.
        case positioned(reply: UInt64, position: UInt64, SubscribeDecision.Recovery, [UInt64], inReply: Int)
    }

    static let rows: [Row] = [
        // Not recovering: positioned at the newest of top and buffered, nothing delivered.
        Row(name: "fresh subscribe at the top", recovering: false, top: .init(offset: 7, epoch: "E"),
            expected: .positioned(reply: 7, position: 7, .notAttempted, [], inReply: 0)),
        Row(name: "fresh subscribe, a publication buffered after the read", recovering: false, top: .init(offset: 7, epoch: "E"),
            buffered: [(8, "E")], expected: .positioned(reply: 8, position: 8, .notAttempted, [], inReply: 0)),
        Row(name: "fresh subscribe, buffered publication of an older epoch ignored", recovering: false,
            top: .init(offset: 0, epoch: "F"), buffered: [(9, "E")],
            expected: .positioned(reply: 0, position: 0, .notAttempted, [], inReply: 0)),
        // Stream recovery.
        Row(name: "recovered: the missed publications, reply offset is the client's", since: .init(offset: 2, epoch: "E"),
            read: [3, 4, 5], top: .init(offset: 5, epoch: "E"),
            expected: .positioned(reply: 2, position: 5, .recovered, [3, 4, 5], inReply: 3)),
        Row(name: "recovered with nothing missed", since: .init(offset: 5, epoch: "E"), top: .init(offset: 5, epoch: "E"),
            expected: .positioned(reply: 5, position: 5, .recovered, [], inReply: 0)),
        Row(name: "request without epoch recovers in the current one", since: .init(offset: 1, epoch: ""), read: [2],
            top: .init(offset: 2, epoch: "E"), expected: .positioned(reply: 1, position: 2, .recovered, [2], inReply: 1)),
        Row(name: "trimmed history is not recovered", since: .init(offset: 2, epoch: "E"), read: [5, 6],
            top: .init(offset: 6, epoch: "E"), expected: .positioned(reply: 6, position: 6, .notRecovered, [], inReply: 0)),
        Row(name: "read cut by the limit is not recovered", since: .init(offset: 2, epoch: "E"), read: [3, 4],
            top: .init(offset: 9, epoch: "E"), expected: .positioned(reply: 9, position: 9, .notRecovered, [], inReply: 0)),
        Row(name: "another epoch is not recovered", since: .init(offset: 2, epoch: "OLD"), read: [3],
            top: .init(offset: 3, epoch: "E"), expected: .positioned(reply: 3, position: 3, .notRecovered, [], inReply: 0)),
        Row(name: "reject flag turns not recovered into 112", since: .init(offset: 2, epoch: "OLD"), reject: true, read: [3],
            top: .init(offset: 3, epoch: "E"), expected: .reject),
        Row(name: "reject flag is silent when recovered", since: .init(offset: 2, epoch: "E"), reject: true, read: [3],
            top: .init(offset: 3, epoch: "E"), expected: .positioned(reply: 2, position: 3, .recovered, [3], inReply: 1)),
        // Races with live publications (the buffer).
        Row(name: "publication buffered after the read joins the recovered ones", since: .init(offset: 2, epoch: "E"),
            read: [3], top: .init(offset: 3, epoch: "E"), buffered: [(4, "E")],
            expected: .positioned(reply: 2, position: 4, .recovered, [3, 4], inReply: 2)),
        Row(name: "publication both read and buffered is delivered once", since: .init(offset: 2, epoch: "E"),
            read: [3, 4], top: .init(offset: 4, epoch: "E"), buffered: [(4, "E"), (5, "E")],
            expected: .positioned(reply: 2, position: 5, .recovered, [3, 4, 5], inReply: 3)),
        Row(name: "a hole between read and buffer is insufficient state", since: .init(offset: 2, epoch: "E"),
            read: [3], top: .init(offset: 3, epoch: "E"), buffered: [(5, "E")], expected: .insufficientState),
        Row(name: "buffered from an older epoch cannot join a recovery", since: .init(offset: 2, epoch: "E"), read: [3],
            top: .init(offset: 3, epoch: "E"), buffered: [(1, "OLD")],
            expected: .positioned(reply: 2, position: 3, .recovered, [3], inReply: 1)),
        Row(name: "not recovered: the buffer only moves the position", since: .init(offset: 1, epoch: "E"), read: [4],
            top: .init(offset: 4, epoch: "E"), buffered: [(5, "E")],
            expected: .positioned(reply: 5, position: 5, .notRecovered, [], inReply: 0)),
        // Streamed long-gap recovery.
        Row(name: "long gap: the first page in the reply, the rest streamed", since: .init(offset: 0, epoch: "E"),
            read: [1, 2, 3, 4, 5], top: .init(offset: 5, epoch: "E"), replyLimit: 2, streams: true,
            expected: .positioned(reply: 0, position: 5, .recovered, [1, 2, 3, 4, 5], inReply: 2)),
        Row(name: "long gap without streaming: the reply carries what was read", since: .init(offset: 0, epoch: "E"),
            read: [1, 2, 3], top: .init(offset: 3, epoch: "E"), replyLimit: 2,
            expected: .positioned(reply: 0, position: 3, .recovered, [1, 2, 3], inReply: 3)),
        // Cache mode (the read is the newest publication).
        Row(name: "cache: the latest value", mode: .cache(latestOnly: true), since: .init(offset: 0, epoch: ""), read: [9],
            top: .init(offset: 9, epoch: "E"), expected: .positioned(reply: 0, position: 9, .recovered, [9], inReply: 1)),
        Row(name: "cache: client already holds the latest", mode: .cache(latestOnly: true), since: .init(offset: 9, epoch: "E"),
            read: [9], top: .init(offset: 9, epoch: "E"), expected: .positioned(reply: 9, position: 9, .recovered, [], inReply: 0)),
        Row(name: "cache: a newer value buffered replaces the read one", mode: .cache(latestOnly: true),
            since: .init(offset: 0, epoch: ""), read: [9], top: .init(offset: 9, epoch: "E"), buffered: [(10, "E")],
            expected: .positioned(reply: 0, position: 10, .recovered, [10], inReply: 1)),
        Row(name: "cache with delta: every value after the read, for the chain", mode: .cache(latestOnly: false),
            since: .init(offset: 0, epoch: ""), read: [9], top: .init(offset: 9, epoch: "E"), buffered: [(10, "E")],
            expected: .positioned(reply: 0, position: 10, .recovered, [9, 10], inReply: 2)),
        Row(name: "cache: nothing stored is not recovered", mode: .cache(latestOnly: true), since: .init(offset: 0, epoch: ""),
            top: .init(offset: 0, epoch: "E"), expected: .positioned(reply: 0, position: 0, .notRecovered, [], inReply: 0)),
        Row(name: "cache: the latest expired (not the top) is not recovered", mode: .cache(latestOnly: true),
            since: .init(offset: 0, epoch: ""), read: [7], top: .init(offset: 9, epoch: "E"),
            expected: .positioned(reply: 9, position: 9, .notRecovered, [], inReply: 0)),
        Row(name: "cache never rejects", mode: .cache(latestOnly: true), since: .init(offset: 0, epoch: ""), reject: true,
            top: .init(offset: 0, epoch: "E"), expected: .positioned(reply: 0, position: 0, .notRecovered, [], inReply: 0)),
        // Keyed cache (docs/keyed-cache.md): the read holds table entries, not a contiguous range.
        Row(name: "keyed, no position: the whole table, reply offset 0", mode: .keyedCache(floor: 0), read: [2, 5, 9],
            top: .init(offset: 10, epoch: "E"), expected: .positioned(reply: 0, position: 10, .recovered, [2, 5, 9], inReply: 3)),
        Row(name: "keyed, resuming: the changes since the position", mode: .keyedCache(floor: 3), since: .init(offset: 6, epoch: "E"),
            read: [7, 9], top: .init(offset: 9, epoch: "E"), expected: .positioned(reply: 6, position: 9, .recovered, [7, 9], inReply: 2)),
        Row(name: "keyed, resuming at the floor is still complete", mode: .keyedCache(floor: 6), since: .init(offset: 6, epoch: "E"),
            read: [8], top: .init(offset: 8, epoch: "E"), expected: .positioned(reply: 6, position: 8, .recovered, [8], inReply: 1)),
        Row(name: "keyed, below the floor: changes were forgotten", mode: .keyedCache(floor: 7), since: .init(offset: 6, epoch: "E"),
            read: [8], top: .init(offset: 8, epoch: "E"), expected: .positioned(reply: 8, position: 8, .notRecovered, [], inReply: 0)),
        Row(name: "keyed, another epoch is not recovered", mode: .keyedCache(floor: 0), since: .init(offset: 6, epoch: "D"),
            read: [8], top: .init(offset: 8, epoch: "E"), expected: .positioned(reply: 8, position: 8, .notRecovered, [], inReply: 0)),
        Row(name: "keyed, ahead of the top is not recovered", mode: .keyedCache(floor: 0), since: .init(offset: 9, epoch: "E"),
            top: .init(offset: 8, epoch: "E"), expected: .positioned(reply: 8, position: 8, .notRecovered, [], inReply: 0)),
        Row(name: "keyed, buffered past the top follow the table; duplicates and older ones dropped", mode: .keyedCache(floor: 0),
            read: [3, 6], top: .init(offset: 6, epoch: "E"), buffered: [(5, "E"), (7, "E"), (7, "E"), (8, "E"), (9, "D")],
            expected: .positioned(reply: 0, position: 8, .recovered, [3, 6, 7, 8], inReply: 4)),
        Row(name: "keyed, a hole after the top is insufficient state", mode: .keyedCache(floor: 0), read: [3],
            top: .init(offset: 6, epoch: "E"), buffered: [(8, "E")], expected: .insufficientState),
        Row(name: "keyed, streamed past the reply limit", mode: .keyedCache(floor: 0), read: [1, 2, 3, 4], top: .init(offset: 4, epoch: "E"),
            replyLimit: 2, streams: true, expected: .positioned(reply: 0, position: 4, .recovered, [1, 2, 3, 4], inReply: 2)),
        Row(name: "keyed, not recovering: positioned at the top only", mode: .keyedCache(floor: 0), recovering: false,
            top: .init(offset: 4, epoch: "E"), expected: .positioned(reply: 4, position: 4, .notAttempted, [], inReply: 0)),
    ]

    @Test(arguments: rows)
    func decide(_ row: Row) {
        let input = SubscribeDecision.Input(
            mode: row.mode, recovering: row.recovering, since: row.since, rejectUnrecovered: row.reject,
            read: HistoryResult(publications: pubs(row.read), top: row.top),
            buffered: row.buffered.map { (Publication(offset: $0.0, data: Array("b\($0.0)".utf8)), $0.1) },
            replyLimit: row.replyLimit, streamsLongGaps: row.streams)
        let outcome = SubscribeDecision.decide(input)
        switch (row.expected, outcome) {
        case (.reject, .reject), (.insufficientState, .insufficientState):
            break
        case (.positioned(let reply, let position, let recovery, let offsets, let inReply), .positioned(let p)):
            #expect(p.replyOffset == reply)
            #expect(p.position == StreamPosition(offset: position, epoch: row.top.epoch))
            #expect(p.epoch == row.top.epoch)
            #expect(p.recovery == recovery)
            #expect(p.publications.map(\.offset) == offsets)
            #expect(p.inReply == inReply)
        default:
            Issue.record("expected \(row.expected), got \(outcome)")
        }
    }

    /// A publication read from history and buffered as well is delivered from history (the first
    /// copy), never twice.
    @Test func historyCopyWinsOverTheBufferedOne() {
        let input = SubscribeDecision.Input(
            mode: .stream, recovering: true, since: StreamPosition(offset: 2, epoch: "E"), rejectUnrecovered: false,
            read: HistoryResult(publications: pubs([3]), top: StreamPosition(offset: 3, epoch: "E")),
            buffered: [(Publication(offset: 3, data: Array("b3".utf8)), "E")])
        guard case .positioned(let p) = SubscribeDecision.decide(input) else { Issue.record("not positioned"); return }
        #expect(p.publications.map { String(decoding: $0.data, as: UTF8.self) } == ["3"])
    }
}
