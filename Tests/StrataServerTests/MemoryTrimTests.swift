import Testing

@testable import StrataServer

@Suite("MemoryTrim: freed memory goes back after a large drop in connections")
struct MemoryTrimTests {
    /// Feeds the connection counts in order; which of them trimmed.
    func trims(_ counts: [Int], minimumDrop: Int = 100) -> [Bool] {
        var trim = MemoryTrim(minimumDrop: minimumDrop, fraction: 0.2)
        return counts.map { trim.observe(connections: $0) }
    }

    /// A drop under `minimumDrop` does not trim; a drop is measured from the most connections
    /// since the last trim.
    @Test func trimsOnlyAfterALargeDrop() {
        #expect(trims([0, 1000, 950, 700, 700, 620, 0]) == [false, false, false, true, false, false, true])
    }

    /// Among many connections a drop of `minimumDrop` is noise: it must also be `fraction` of them.
    @Test func smallFractionOfManyConnectionsDoesNotTrim() {
        #expect(trims([100_000, 99_000, 79_000]) == [false, false, true])
    }
}
