import StrataCore
import StrataRecovery
import Testing

/// Why a recovery failed, for each way it can (issue 20, item 8): the decision names the reason
/// with the outcome, and only when recovery was asked for and failed.
@Suite("Recovery failure reasons")
struct RecoveryFailureTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var mode: SubscribeDecision.Mode = .stream
        var since: StreamPosition
        var read: [UInt64]
        var top: StreamPosition
        var expected: RecoveryFailure?

        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "recovered", since: .init(offset: 3, epoch: "E"), read: [4, 5], top: .init(offset: 5, epoch: "E"), expected: nil),
        Case(name: "nothing missed", since: .init(offset: 5, epoch: "E"), read: [], top: .init(offset: 5, epoch: "E"), expected: nil),
        Case(name: "another epoch", since: .init(offset: 3, epoch: "OLD"), read: [1, 2], top: .init(offset: 2, epoch: "E"),
             expected: .epochChanged),
        Case(name: "ahead of the top", since: .init(offset: 9, epoch: "E"), read: [], top: .init(offset: 5, epoch: "E"),
             expected: .positionAhead),
        Case(name: "nothing retained", since: .init(offset: 3, epoch: "E"), read: [], top: .init(offset: 5, epoch: "E"),
             expected: .historyExpired),
        Case(name: "trimmed", since: .init(offset: 1, epoch: "E"), read: [4, 5], top: .init(offset: 5, epoch: "E"),
             expected: .olderThanHistory),
        Case(name: "over the read limit", since: .init(offset: 1, epoch: "E"), read: [2, 3], top: .init(offset: 9, epoch: "E"),
             expected: .tooManyMissed),
        Case(name: "cache: value gone", mode: .cache(latestOnly: true), since: .init(offset: 1, epoch: "E"), read: [4],
             top: .init(offset: 5, epoch: "E"), expected: .cacheValueGone),
        Case(name: "cache: no value", mode: .cache(latestOnly: true), since: .init(offset: 0, epoch: ""), read: [],
             top: .init(offset: 5, epoch: "E"), expected: .noCacheValue),
        Case(name: "cache: recovered", mode: .cache(latestOnly: true), since: .init(offset: 1, epoch: "E"), read: [5],
             top: .init(offset: 5, epoch: "E"), expected: nil),
    ]

    @Test(arguments: cases)
    func reason(_ c: Case) throws {
        let input = SubscribeDecision.Input(
            mode: c.mode, recovering: true, since: c.since, rejectUnrecovered: false,
            read: HistoryResult(publications: c.read.map { Publication(offset: $0, data: Array("\($0)".utf8)) }, top: c.top),
            buffered: [])
        guard case .positioned(let p) = SubscribeDecision.decide(input) else {
            Issue.record("not positioned")
            return
        }
        #expect(p.failure == c.expected)
        #expect((p.recovery == .notRecovered) == (c.expected != nil))
    }

    /// Not asking to recover is not a failure.
    @Test func noReasonWithoutRecovery() {
        let input = SubscribeDecision.Input(
            mode: .stream, recovering: false, since: .init(offset: 1, epoch: "OLD"), rejectUnrecovered: false,
            read: HistoryResult(publications: [], top: .init(offset: 5, epoch: "E")), buffered: [])
        guard case .positioned(let p) = SubscribeDecision.decide(input) else {
            Issue.record("not positioned")
            return
        }
        #expect(p.failure == nil && p.recovery == .notAttempted)
    }
}
