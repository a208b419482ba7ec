/// How a byte enters the rolling hash. fossil's C code reads its buffers as `char`, which is signed
/// on x86 (0x80...0xFF count as -128...-1) and unsigned on ARM and in the Go port; the hash only
/// picks buckets, so both are correct, but each reproduces a different reference byte for byte.
/// A protocol, not a flag, so the encoder is specialised per mode with no per-byte branch.
protocol HashByteMapping {
    static func widen(_ byte: UInt8) -> UInt16
}

/// Bytes as 0...255 (Go port, C on ARM).
enum UnsignedHashBytes: HashByteMapping {
    @inline(__always) static func widen(_ byte: UInt8) -> UInt16 { UInt16(byte) }
}

/// Bytes as signed C `char` (C on x86), sign-extended to 16 bits like C's integer promotion.
enum SignedHashBytes: HashByteMapping {
    @inline(__always) static func widen(_ byte: UInt8) -> UInt16 {
        UInt16(truncatingIfNeeded: Int8(bitPattern: byte))
    }
}

/// fossil's rolling hash over a 16-byte window (`NHASH`): `a` = sum of the bytes, `b` = sum of
/// (16 − i)·byte_i, both mod 2^16; value `a | b << 16`. Sliding costs two adds, which is what
/// makes scanning every target position affordable.
struct RollingHash<Bytes: HashByteMapping> {
    static var window: Int { 16 }

    private var a: UInt16
    private var b: UInt16

    /// Hashes `window` bytes starting at `bytes`.
    @inline(__always)
    init(_ bytes: UnsafePointer<UInt8>) {
        var a = Bytes.widen(bytes[0])
        var b = a
        for index in 1..<Self.window {
            a &+= Bytes.widen(bytes[index])
            b &+= a
        }
        self.a = a
        self.b = b
    }

    /// Moves the window one byte on: `old` leaves at the front, `new` enters at the back.
    @inline(__always)
    mutating func slide(removing old: UInt8, adding new: UInt8) {
        let outgoing = Bytes.widen(old)
        a = a &- outgoing &+ Bytes.widen(new)
        b = b &- (outgoing &* 16) &+ a
    }

    @inline(__always)
    var value: UInt32 { UInt32(a) | UInt32(b) << 16 }
}
