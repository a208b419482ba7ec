/// Little helpers for the binary records: fixed-width big-endian integers and length-prefixed bytes.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func u8(_ v: UInt8) { bytes.append(v) }

    package mutating func u32(_ v: UInt32) {
        for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
    }

    package mutating func u64(_ v: UInt64) {
        for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }

    package mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    package mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    /// nil is written as length 0xFFFF_FFFF.
    package mutating func optionalBlob(_ b: [UInt8]?) {
        guard let b else { return u32(.max) }
        blob(b)
    }

    package mutating func string(_ s: String) { blob(Array(s.utf8)) }
}

/// The stored bytes do not decode: a corrupt record (reported with its key by the caller).
package struct RecordCorrupt: Error, CustomStringConvertible {
    package let what: String
    package init(what: String) { self.what = what }
    package var description: String { "corrupt record: \(what)" }
}

package struct ByteReader {
    package let bytes: [UInt8]
    package var index = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package mutating func u8() throws -> UInt8 {
        guard index < bytes.count else { throw RecordCorrupt(what: "truncated") }
        defer { index += 1 }
        return bytes[index]
    }

    package mutating func u32() throws -> UInt32 { try bigEndian() }

    package mutating func u64() throws -> UInt64 { try bigEndian() }

    /// An unsigned integer in network byte order.
    private mutating func bigEndian<T: FixedWidthInteger & UnsignedInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard index + size <= bytes.count else { throw RecordCorrupt(what: "truncated") }
        var v: T = 0
        for k in 0..<size { v = v << 8 | T(bytes[index + k]) }
        index += size
        return v
    }

    package mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    package mutating func blob() throws -> [UInt8] {
        let n = Int(try u32())
        guard n >= 0, index + n <= bytes.count else { throw RecordCorrupt(what: "length \(n) past end") }
        defer { index += n }
        return Array(bytes[index..<index + n])
    }

    package mutating func optionalBlob() throws -> [UInt8]? {
        let n = try u32()
        if n == .max { return nil }
        guard index + Int(n) <= bytes.count else { throw RecordCorrupt(what: "length \(n) past end") }
        defer { index += Int(n) }
        return Array(bytes[index..<index + Int(n)])
    }

    package mutating func string() throws -> String {
        let b = try blob()
        guard let s = String(validating: b, as: UTF8.self) else { throw RecordCorrupt(what: "invalid UTF-8") }
        return s
    }
}
