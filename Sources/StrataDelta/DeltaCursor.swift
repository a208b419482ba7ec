/// Reads a delta front to back. Every read is bounds-checked against the delta and reports
/// failures as `DeltaError`, so the applier cannot over-read whatever the input holds.
struct DeltaCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    /// A base-64 integer of at least one digit that fits in 32 bits. It ends at the first byte
    /// outside the alphabet (left unread) or at the end of the delta.
    mutating func readInt() throws(DeltaError) -> UInt32 {
        let start = position
        var value: UInt64 = 0
        while position < bytes.count, let digit = DeltaBase64.value(ofDigit: bytes[position]) {
            // value < 2^32 before this step, so value * 64 + 63 < 2^39 cannot overflow.
            value = value << 6 | UInt64(digit)
            guard value <= UInt64(UInt32.max) else { throw DeltaError(.integerOverflow, at: start) }
            position += 1
        }
        guard position > start else { throw DeltaError(.missingInteger, at: start) }
        return UInt32(truncatingIfNeeded: value)
    }

    /// The next byte, or nil at the end of the delta.
    mutating func readByte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next `count` bytes; the caller has checked `count <= remaining`.
    mutating func take(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(count >= 0 && count <= remaining, "delta cursor over-read")
        defer { position += count }
        return UnsafeBufferPointer(rebasing: bytes[position..<position + count])
    }
}
