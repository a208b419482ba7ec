import Testing

@testable import StrataCore

@Suite("Dictionary.shrinkIfSparse")
struct DictionaryShrinkTests {
    /// A dictionary of `filled` entries after the first `removed` left: its capacity before and
    /// after `shrinkIfSparse`, and whether the rest is intact.
    func shrink(filled: Int, removed: Int) -> (before: Int, after: Int, intact: Bool) {
        var d: [Int: String] = [:]
        for i in 0..<filled { d[i] = "\(i)" }
        for i in 0..<removed { d[i] = nil }
        let before = d.capacity
        d.shrinkIfSparse()
        return (before, d.capacity, d.count == filled - removed && (removed..<filled).allSatisfy { d[$0] == "\($0)" })
    }

    @Test func givesBackStorageOnceAQuarterFull() {
        let r = shrink(filled: 10_000, removed: 9_000)
        #expect(r.after < r.before / 4)
        #expect(r.intact)
    }

    /// Half full, or small: left as it is (no rebuild on every removal).
    @Test(arguments: [(4_000, 2_000), (500, 499)])
    func leavesFullerOrSmallDictionariesAlone(_ filled: Int, _ removed: Int) {
        let r = shrink(filled: filled, removed: removed)
        #expect(r.after == r.before)
        #expect(r.intact)
    }
}
