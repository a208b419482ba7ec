import Synchronization

/// Stream epochs: 8 random ASCII letters, as Centrifugo v6.9 generates them. Opaque to clients.
package enum Epoch {
    private static let letters: InlineArray<52, UInt8> = [
        97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
        65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90,
    ]

    /// A random start drawn once per process, and a count of epochs made since.
    private static let seed: UInt64 = {
        var rng = SystemRandomNumberGenerator()
        return rng.next()
    }()
    private static let drawn = Atomic<UInt64>(0)

    /// One 64-bit value gives all 8 letters (52^8 < 2^46, so each base-52 digit is uniform up to a
    /// bias below 2^-18). The value is SplitMix64 of the process's random seed plus a count, not a
    /// system random draw: callers that pass a candidate epoch with every publish (the Redis store)
    /// would otherwise pay a getrandom call each. SplitMix64 is a bijection, so epochs made by one
    /// process never repeat within 2^64 draws, and each process starts somewhere random. An epoch
    /// is no secret (every client sees it); it only has to differ from the one before.
    package static func generate() -> String {
        let count = drawn.wrappingAdd(1, ordering: .relaxed).oldValue
        var value = splitMix64(seed &+ count &* 0x9E37_79B9_7F4A_7C15)
        return String(unsafeUninitializedCapacity: 8) { buffer in
            for index in 0..<8 {
                buffer[index] = letters[Int(value % 52)]
                value /= 52
            }
            return 8
        }
    }

    /// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective mix of 64 bits.
    static func splitMix64(_ input: UInt64) -> UInt64 {
        var z = input
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
