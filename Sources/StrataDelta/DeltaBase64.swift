/// fossil's base-64 integers: unsigned, most significant digit first, digit alphabet
/// `0-9 A-Z _ a-z ~` (value = position). Deltas carry every count, offset and checksum this way.
enum DeltaBase64 {
    /// The digit for a value in 0...63. Arithmetic instead of a table so that no global needs
    /// lazy initialisation on the encoder's path.
    @inline(__always)
    static func digit(_ value: UInt32) -> UInt8 {
        switch value {
        case 0..<10: UInt8(truncatingIfNeeded: value) &+ 0x30  // '0'...'9'
        case 10..<36: UInt8(truncatingIfNeeded: value) &+ 0x37  // 'A'...'Z'
        case 36: 0x5F  // '_'
        case 37..<63: UInt8(truncatingIfNeeded: value) &+ 0x3C  // 'a'...'z'
        default: 0x7E  // '~' (63; callers pass six bits only)
        }
    }

    /// The value of a digit byte, or nil when the byte is not in the alphabet. Strict on purpose:
    /// the reference decoders mask bytes with 0x7F first (so 0xB0 reads as `0`), which lets
    /// corrupted deltas through; no valid encoder ever writes such bytes in an integer.
    @inline(__always)
    static func value(ofDigit byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte &- 0x30)
        case 0x41...0x5A: UInt32(byte &- 0x37)
        case 0x5F: 36
        case 0x61...0x7A: UInt32(byte &- 0x3C)
        case 0x7E: 63
        default: nil
        }
    }

    /// How many digits `value` takes (at least one: zero is written as `0`). Counted from the bit
    /// length because the encoder asks this for every candidate match.
    @inline(__always)
    static func digitCount(_ value: UInt32) -> Int {
        let bits = UInt32.bitWidth - value.leadingZeroBitCount
        return bits == 0 ? 1 : (bits + 5) / 6
    }

    /// `digitCount` for the encoder's non-negative `Int` quantities (all below 2^32).
    @inline(__always)
    static func digitCount(_ value: Int) -> Int {
        digitCount(UInt32(truncatingIfNeeded: value))
    }

    /// The digits of `value`, for callers outside the hot paths (tests, diagnostics).
    static func encode(_ value: UInt32) -> [UInt8] {
        var digits = [UInt8](repeating: 0, count: digitCount(value))
        var rest = value
        for index in digits.indices.reversed() {
            digits[index] = digit(rest & 63)
            rest >>= 6
        }
        return digits
    }
}
