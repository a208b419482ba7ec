import StrataCompression
import Testing

@Suite("zstd")
struct ZstdTests {
    @Test func roundTripsAndShrinksRepetitiveJSON() throws {
        let input = Array(String(repeating: "{\"event\":\"goal\",\"minute\":42,\"team\":\"home\"}", count: 100).utf8)
        let c = ZstdCompressor(level: 3)
        let packed = try c.compress(input)
        #expect(packed.count < input.count / 10)
        let d = ZstdDecompressor()
        #expect(try d.decompress(packed, expectedSize: input.count) == input)
        // Contexts are reusable.
        #expect(try d.decompress(try c.compress(Array("x".utf8)), expectedSize: 1) == Array("x".utf8))
    }

    @Test func corruptFramesAndWrongSizesAreErrors() throws {
        let d = ZstdDecompressor(maxOutput: 1 << 20)
        #expect(throws: ZstdError.self) { try d.decompress([1, 2, 3, 4, 5], expectedSize: 10) }
        let packed = try ZstdCompressor().compress(Array("hello hello hello".utf8))
        #expect(throws: ZstdError.self) { try d.decompress(packed, expectedSize: 5) }
        #expect(throws: ZstdError.self) { try d.decompress(packed, expectedSize: 1 << 30) }
    }
}
