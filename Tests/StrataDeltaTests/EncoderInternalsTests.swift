import StrataTesting
import Testing
@testable import StrataDelta

/// The encoder's building blocks, each against its plain definition.
@Suite("encoder internals")
struct EncoderInternalsTests {
    @Test("fast modulo equals the % operator")
    func fastModulo() {
        var rng = SplitMix(state: 11)
        let divisors: [UInt32] = [1, 2, 3, 7, 16, 1000, 65_536, 65_537, 268_435_455, UInt32.max]
        for divisor in divisors + (0..<50).map({ _ in UInt32.random(in: 1 ... .max, using: &rng) }) {
            let modulo = FastModulo(divisor: divisor)
            for x in [0, 1, divisor &- 1, divisor, UInt32.max] + (0..<200).map({ _ in rng.next() as UInt32 }) {
                #expect(modulo.reduce(x) == x % divisor)
            }
        }
    }

    @Test("sliding the rolling hash equals hashing the window afresh, in both byte modes")
    func rollingHash() {
        var rng = SplitMix(state: 3)
        let data = (0..<300).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        data.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { return }
            var unsigned = RollingHash<UnsignedHashBytes>(start)
            var signed = RollingHash<SignedHashBytes>(start)
            for offset in 1...(data.count - 16) {
                unsigned.slide(removing: data[offset - 1], adding: data[offset + 15])
                signed.slide(removing: data[offset - 1], adding: data[offset + 15])
                #expect(unsigned.value == RollingHash<UnsignedHashBytes>(start + offset).value)
                #expect(signed.value == RollingHash<SignedHashBytes>(start + offset).value)
            }
        }
        // A window of bytes below 0x80 hashes the same either way; 0xFF counts as 255 or -1.
        let ascii = [UInt8](repeating: 0x61, count: 16)
        let high = [UInt8](repeating: 0xFF, count: 16)
        ascii.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { return }
            #expect(RollingHash<UnsignedHashBytes>(start).value == RollingHash<SignedHashBytes>(start).value)
        }
        high.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { return }
            // a = 16·255 = 0x0FF0, b = 136·255 = 0x8778; signed: a = −16 = 0xFFF0, b = −136 = 0xFF78.
            #expect(RollingHash<UnsignedHashBytes>(start).value == 0x8778_0FF0)
            #expect(RollingHash<SignedHashBytes>(start).value == 0xFF78_FFF0)
        }
    }

    @Test("common prefix length at every offset of the first difference")
    func commonPrefix() {
        let a = [UInt8](repeating: 0x41, count: 40)
        for difference in 0...40 {
            var b = a
            if difference < 40 { b[difference] = 0x42 }
            for limit in [0, 1, 7, 8, 9, 16, 33, 40] {
                let length = a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        guard let startA = pa.baseAddress, let startB = pb.baseAddress else { return -1 }
                        return commonPrefixLength(startA, startB, limit: limit)
                    }
                }
                #expect(length == min(difference, limit))
            }
        }
    }
}
