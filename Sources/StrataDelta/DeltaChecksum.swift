/// fossil's 32-bit delta checksum: the sum (mod 2^32) of the data read as big-endian u32 words,
/// a 1–3 byte tail counting as if zero-padded on the right. The applier compares it with the
/// trailer of every delta, which catches a delta applied to the wrong base.
package enum DeltaChecksum {
    /// The checksum of `bytes`.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    /// The checksum of `bytes`, without copying.
    package static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let start = bytes.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(start)
        let count = bytes.count
        // Words are summed in 64 bits and truncated once at the end: addition commutes with the
        // mod 2^32 reduction, and four independent lanes keep the adds from waiting on each other.
        var lane0: UInt64 = 0
        var lane1: UInt64 = 0
        var lane2: UInt64 = 0
        var lane3: UInt64 = 0
        var offset = 0
        while offset + 16 <= count {
            lane0 &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            lane1 &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
            lane2 &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)))
            lane3 &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
            offset += 16
        }
        while offset + 4 <= count {
            lane0 &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
        }
        var sum = UInt32(truncatingIfNeeded: lane0 &+ lane1 &+ lane2 &+ lane3)
        var shift: UInt32 = 24
        while offset < count {
            sum &+= UInt32(start[offset]) << shift
            shift -= 8
            offset += 1
        }
        return sum
    }
}
