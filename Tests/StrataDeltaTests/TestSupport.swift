@testable import StrataDelta

/// Bytes of a string (deltas of text targets are text).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// SplitMix64: a tiny seeded generator, so every property test replays the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The declared target size of a delta (its header), or nil when the header does not parse.
func declaredSize(of delta: [UInt8]) -> Int? {
    var value = 0
    for (index, byte) in delta.enumerated() {
        if byte == UInt8(ascii: "\n") { return index > 0 ? value : nil }
        guard let digit = DeltaBase64.value(ofDigit: byte), value <= Int(UInt32.max) else { return nil }
        value = value << 6 | Int(digit)
    }
    return nil
}
