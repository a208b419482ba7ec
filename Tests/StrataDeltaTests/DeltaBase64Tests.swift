import Testing
@testable import StrataDelta

@Suite("base-64 integers")
struct DeltaBase64Tests {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~".utf8)

    @Test("digits follow fossil's alphabet both ways")
    func alphabetRoundTrip() {
        for (value, byte) in Self.alphabet.enumerated() {
            #expect(DeltaBase64.digit(UInt32(value)) == byte)
            #expect(DeltaBase64.value(ofDigit: byte) == UInt32(value))
        }
        let outside = (0...255).map(UInt8.init).filter { !Self.alphabet.contains($0) }
        #expect(outside.count == 192)
        for byte in outside { #expect(DeltaBase64.value(ofDigit: byte) == nil) }
    }

    @Test("spec examples", arguments: [
        (UInt32(0), "0"), (12, "C"), (63, "~"), (64, "10"), (1_048_576, "4000"), (1_048_255, "3~v~"),
        (0x4703_F947, "170~a7"), (UInt32.max, "3~~~~~"),
    ])
    func examples(value: UInt32, text: String) {
        #expect(DeltaBase64.encode(value) == bytes(text))
        #expect(DeltaBase64.digitCount(value) == text.utf8.count)
    }

    @Test("digit counts change at powers of 64")
    func digitCounts() {
        for digits in 1...5 {
            let boundary = UInt32(1) << (6 * digits)
            #expect(DeltaBase64.digitCount(boundary - 1) == digits)
            #expect(DeltaBase64.digitCount(boundary) == digits + 1)
        }
    }
}
