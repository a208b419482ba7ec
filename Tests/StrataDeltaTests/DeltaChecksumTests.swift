import StrataTesting
import Testing
@testable import StrataDelta

@Suite("checksum")
struct DeltaChecksumTests {
    /// The definition in spec A.3, one byte at a time.
    static func reference(_ data: [UInt8]) -> UInt32 {
        var sum: UInt32 = 0
        for (index, byte) in data.enumerated() {
            sum &+= UInt32(byte) << UInt32(24 - 8 * (index % 4))
        }
        return sum
    }

    @Test("spec example and edge sizes")
    func examples() {
        #expect(DeltaChecksum.checksum(bytes("hello, world")) == 0x4703_F947)
        #expect(DeltaChecksum.checksum([]) == 0)
        #expect(DeltaChecksum.checksum([0x01]) == 0x0100_0000)
        #expect(DeltaChecksum.checksum([0x01, 0x02, 0x03]) == 0x0102_0300)
        #expect(DeltaChecksum.checksum([0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01]) == 0)
    }

    @Test("matches the byte-wise definition for every length up to 100")
    func matchesReference() {
        var rng = SplitMix(state: 7)
        for length in 0...100 {
            let data = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
            #expect(DeltaChecksum.checksum(data) == Self.reference(data))
        }
    }
}
