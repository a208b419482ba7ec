/// Appends delta text to a buffer the encoder sized up front, so emitting a command never
/// allocates. The capacity checks are per command, not per byte, and turn a wrong size bound into a
/// trap instead of memory corruption.
struct DeltaWriter {
    private let start: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(start: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.start = start
        self.capacity = capacity
    }

    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    mutating func putByte(_ byte: UInt8) {
        precondition(count < capacity, "delta buffer bound violated")
        start[count] = byte
        count += 1
    }

    mutating func putInt(_ value: UInt32) {
        let digits = DeltaBase64.digitCount(value)
        precondition(capacity - count >= digits, "delta buffer bound violated")
        var rest = value
        var index = count + digits
        while index > count {
            index -= 1
            start[index] = DeltaBase64.digit(rest & 63)
            rest >>= 6
        }
        count += digits
    }

    /// Writes `value`, which callers guarantee is below 2^32 (checked once in `DeltaEncoder`).
    mutating func putInt(_ value: Int) {
        putInt(UInt32(truncatingIfNeeded: value))
    }

    mutating func putBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(capacity - count >= bytes.count, "delta buffer bound violated")
        (start + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// An insert command: `n:` followed by the bytes themselves.
    mutating func putInsert(_ bytes: UnsafeBufferPointer<UInt8>) {
        putInt(bytes.count)
        putByte(UInt8(ascii: ":"))
        putBytes(bytes)
    }

    /// A copy command: `n@offset,`.
    mutating func putCopy(count copyCount: Int, offset: Int) {
        putInt(copyCount)
        putByte(UInt8(ascii: "@"))
        putInt(offset)
        putByte(UInt8(ascii: ","))
    }
}
