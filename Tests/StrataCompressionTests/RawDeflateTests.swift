import StrataTesting
import Testing

@testable import StrataCompression

/// permessage-deflate's raw DEFLATE without context takeover (RFC 7692).
@Suite("Raw DEFLATE")
struct RawDeflateTests {
    /// Every level, sizes around zlib's buffer boundaries, random and repetitive bytes.
    @Test(arguments: [-2, -1, 0, 1, 6, 9, 42])
    func roundTrips(_ level: Int) throws {
        let deflater = RawDeflater(level: level)
        let inflater = RawInflater()
        var rng = SplitMix(state: UInt64(level + 100))
        for size in [0, 1, 100, 4095, 65_536, 200_000] {
            let random = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Array(String(repeating: "{\"player\":7,\"x\":12} ", count: size / 20 + 1).utf8.prefix(size))
            for input in [random, text] {
                let compressed = deflater.compress(input)
                #expect(!compressed.suffix(4).elementsEqual([0, 0, 0xFF, 0xFF]) || compressed.count < 4)
                #expect(try inflater.decompress(compressed, limit: 1 << 20) == input)
            }
        }
    }

    @Test func repetitiveTextShrinks() {
        let input = Array(String(repeating: "the same words again ", count: 200).utf8)
        #expect(RawDeflater(level: 1).compress(input).count < input.count / 10)
    }

    @Test func inflatingPastTheLimitIsRefused() {
        let bomb = RawDeflater(level: 9).compress([UInt8](repeating: 32, count: 100_000))
        #expect(throws: RawInflater.Failure.tooLarge) { try RawInflater().decompress(bomb, limit: 10_000) }
        #expect((try? RawInflater().decompress(bomb, limit: 100_000))?.count == 100_000)
    }

    @Test func garbageIsCorrupt() {
        #expect(throws: RawInflater.Failure.corrupt) { try RawInflater().decompress([0xFF, 0xFF, 0xFF, 0xFF, 0x12], limit: 1000) }
    }
}
