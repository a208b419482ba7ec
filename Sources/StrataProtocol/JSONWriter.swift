#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends compact JSON to a byte buffer. Callers decide which fields to omit (Centrifugo's
/// omit-when-empty rules live in the encoders, next to each message).
package struct JSONWriter: Sendable {
    package var bytes: [UInt8]
    /// Whether the next member of the open object needs a comma before it.
    private var needsComma = false

    package init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts `"name":` inside an object (or an element inside an array when name is nil).
    package mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Separates array elements.
    package mutating func element() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    package mutating func string(_ s: String) {
        appendEscaped(s)
        needsComma = true
    }

    /// A JSON string whose content is arbitrary bytes: valid UTF-8 passes through escaped as JSON
    /// requires; invalid sequences become U+FFFD, as Go's encoder does.
    package mutating func string(bytes raw: [UInt8]) {
        appendEscaped(String(decoding: raw, as: UTF8.self))
        needsComma = true
    }

    package mutating func raw(_ json: some Sequence<UInt8>) {
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// A JSON payload kept as published, minus its raw newlines: a newline ends a message in a
    /// JSON transport frame, and in valid JSON a raw newline is only ever whitespace between
    /// tokens (inside strings it is escaped), so dropping it changes nothing a client decodes.
    /// Centrifugo's protocol library does the same.
    package mutating func payload(_ json: [UInt8]) {
        let hasNewline = json.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return memchr(base, 0x0A, buffer.count) != nil
        }
        if !hasNewline {
            bytes.append(contentsOf: json)
        } else {
            for b in json where b != 0x0A { bytes.append(b) }
        }
        needsComma = true
    }

    package mutating func bool(_ v: Bool) {
        raw(v ? Array("true".utf8) : Array("false".utf8))
    }

    package mutating func int(_ v: some BinaryInteger) {
        bytes.append(contentsOf: String(v).utf8)
        needsComma = true
    }

    package mutating func null() {
        raw(Array("null".utf8))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func appendEscaped(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(b)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hex[Int(b >> 4)])
                bytes.append(Self.hex[Int(b & 0x0F)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
