/// A decimal number written as text (`-12.50`), compared exactly: the numeric tags filter
/// compares tag values as Centrifugo does (its udecimal), not as floating point, so "10.0" equals
/// "10" and 0.1 + 0.2 questions never arise.
///
/// Accepted: an optional sign, digits, and optionally a point followed by at most 19 digits; at
/// most 200 characters. No exponent, no leading or trailing point, no spaces — anything else is
/// not a number (and a filter comparison with it matches nothing).
package struct ExactDecimal: Comparable, Hashable, Sendable {
    /// The integer digits without leading zeros, the fraction digits without trailing zeros
    /// (ASCII values), and the sign (never negative for zero).
    let negative: Bool
    let integer: [UInt8]
    let fraction: [UInt8]

    static let maxFractionDigits = 19
    static let maxLength = 200

    package init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxLength else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        let integerStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        guard i > integerStart else { return nil }
        let integer = bytes[integerStart..<i].drop { $0 == UInt8(ascii: "0") }
        var fraction: ArraySlice<UInt8> = []
        if i < bytes.count {
            guard bytes[i] == UInt8(ascii: ".") else { return nil }
            i += 1
            let fractionStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            guard i > fractionStart, i == bytes.count, i - fractionStart <= Self.maxFractionDigits else { return nil }
            fraction = bytes[fractionStart..<i]
            while fraction.last == UInt8(ascii: "0") { fraction = fraction.dropLast() }
        }
        if integer.isEmpty && fraction.isEmpty { negative = false }
        self.negative = negative
        self.integer = Array(integer)
        self.fraction = Array(fraction)
    }

    package static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        if a.negative != b.negative { return a.negative }
        // Same sign: compare magnitudes, reversed for negatives.
        return a.negative ? magnitudeLess(b, a) : magnitudeLess(a, b)
    }

    private static func magnitudeLess(_ a: ExactDecimal, _ b: ExactDecimal) -> Bool {
        if a.integer.count != b.integer.count { return a.integer.count < b.integer.count }
        if a.integer != b.integer { return a.integer.lexicographicallyPrecedes(b.integer) }
        // Fractions without trailing zeros compare as digit strings.
        return a.fraction.lexicographicallyPrecedes(b.fraction)
    }
}
