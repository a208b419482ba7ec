import Testing

@testable import StrataCore

@Suite("Epoch")
struct EpochTests {
    @Test func eightLettersDifferentEachTime() {
        let epochs = (0..<2000).map { _ in Epoch.generate() }
        for e in epochs {
            #expect(e.utf8.count == 8)
            #expect(e.allSatisfy { $0.isASCII && $0.isLetter })
        }
        #expect(Set(epochs).count == epochs.count)
    }

    /// Every position uses the whole alphabet (a digit taken twice from the same bits would not).
    @Test func everyPositionCoversTheAlphabet() {
        var seen = Array(repeating: Set<Character>(), count: 8)
        for _ in 0..<5000 {
            for (i, c) in Epoch.generate().enumerated() { seen[i].insert(c) }
        }
        for position in seen { #expect(position.count == 52) }
    }
}
