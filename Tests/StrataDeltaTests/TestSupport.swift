@testable import StrataDelta
import StrataTesting

/// Bytes of a string (deltas of text targets are text).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

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
