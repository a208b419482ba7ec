import StrataCore
import StrataRecovery
import Testing

@Suite("Live position checks")
struct PositionCheckTests {
    @Test func nextOffsetIsDeliveredAndAdvances() {
        var p = StreamPosition(offset: 4, epoch: "E")
        #expect(LivePosition.check(&p, offset: 5, epoch: "E") == .deliver)
        #expect(p.offset == 5)
    }

    @Test func olderOffsetIsSkipped() {
        var p = StreamPosition(offset: 4, epoch: "E")
        #expect(LivePosition.check(&p, offset: 4, epoch: "E") == .skip)
        #expect(LivePosition.check(&p, offset: 1, epoch: "E") == .skip)
        #expect(p.offset == 4)
    }

    @Test func gapOrOtherEpochIsInsufficientState() {
        var p = StreamPosition(offset: 4, epoch: "E")
        #expect(LivePosition.check(&p, offset: 6, epoch: "E") == .insufficientState)
        #expect(LivePosition.check(&p, offset: 5, epoch: "F") == .insufficientState)
    }

    @Test func emptyEpochAdoptsThePublications() {
        var p = StreamPosition(offset: 0, epoch: "")
        #expect(LivePosition.check(&p, offset: 1, epoch: "E") == .deliver)
        #expect(p.epoch == "E")
    }
}
