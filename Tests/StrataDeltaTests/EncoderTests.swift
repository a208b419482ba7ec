import StrataTesting
import Testing
@testable import StrataDelta

@Suite("encoder edge cases")
struct EncoderTests {
    @Test("sizes around the 16-byte window", arguments: DeltaMode.allCases)
    func windowSizes(mode: DeltaMode) throws {
        let text = bytes("The quick brown fox jumps over the lazy dog, again and again and again.")
        for sourceLength in [0, 1, 15, 16, 17, 31, 32, 33, 48, 49] {
            for targetLength in [0, 1, 15, 16, 17, 32, 33, 70] {
                let source = Array(text.prefix(sourceLength))
                let target = Array(text.reversed().prefix(targetLength / 2) + text.prefix(targetLength - targetLength / 2))
                let delta = DeltaEncoder.create(source: source, target: target, mode: mode)
                #expect(try DeltaApplier.apply(source: source, delta: delta) == target)
                #expect(delta.count <= target.count + 21, "delta size bound used for the output buffer")
            }
        }
    }

    @Test("literal-only shapes of the reference")
    func literalShapes() {
        #expect(DeltaEncoder.create(source: [], target: []) == bytes("0\n0:0;"))
        #expect(DeltaEncoder.create(source: bytes("hello"), target: bytes("hello, world")) == bytes("C\nC:hello, world170~a7;"))
        // Source long enough to index, target empty: header and checksum only.
        #expect(DeltaEncoder.create(source: [UInt8](repeating: 1, count: 41), target: []) == bytes("0\n0;"))
    }

    @Test("an identical long input is a single copy", arguments: DeltaMode.allCases)
    func identical(mode: DeltaMode) {
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 5) }
        let delta = DeltaEncoder.create(source: data, target: data, mode: mode)
        let size = DeltaBase64.encode(5000)
        #expect(size == bytes("1E8"))
        let expected = size + bytes("\n") + size + bytes("@0,") + DeltaBase64.encode(DeltaChecksum.checksum(data)) + bytes(";")
        #expect(delta == expected)
    }

    @Test("the modes differ only in bucket choice: high bytes change the hash, ASCII does not")
    func modesOnAscii() {
        var rng = SplitMix(state: 99)
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"].map(bytes)
        var source: [UInt8] = []
        while source.count < 4000 { source += words[Int.random(in: 0..<words.count, using: &rng)] + [0x20] }
        var target = source
        target.replaceSubrange(1000..<1010, with: bytes("<edit>"))
        // Below 0x80 the byte mappings agree and the chain limit rarely binds: same bytes.
        #expect(DeltaEncoder.create(source: source, target: target, mode: .goPort)
            == DeltaEncoder.create(source: source, target: target, mode: .fossilC))
    }
}
