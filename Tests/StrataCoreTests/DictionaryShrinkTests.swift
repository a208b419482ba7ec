import Testing

@testable import StrataCore

@Suite("Dictionary.shrinkIfSparse")
struct DictionaryShrinkTests {
    @Test func givesBackStorageOnceAQuarterFull() {
        var d: [Int: String] = [:]
        for i in 0..<10_000 { d[i] = "\(i)" }
        let grown = d.capacity
        for i in 0..<9_000 { d[i] = nil }
        #expect(d.capacity == grown, "Swift keeps the capacity")
        d.shrinkIfSparse()
        #expect(d.capacity < grown / 4)
        #expect(d.count == 1_000)
        #expect((9_000..<10_000).allSatisfy { d[$0] == "\($0)" })
    }

    @Test func leavesFullerOrSmallDictionariesAlone() {
        var half: [Int: Int] = [:]
        for i in 0..<4_000 { half[i] = i }
        for i in 0..<2_000 { half[i] = nil }
        let capacity = half.capacity
        half.shrinkIfSparse()
        #expect(half.capacity == capacity)

        var small: [Int: Int] = [:]
        for i in 0..<500 { small[i] = i }
        for i in 0..<499 { small[i] = nil }
        let smallCapacity = small.capacity
        small.shrinkIfSparse()
        #expect(small.capacity == smallCapacity)
    }
}
