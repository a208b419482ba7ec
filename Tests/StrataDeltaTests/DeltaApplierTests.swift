import Testing
@testable import StrataDelta

@Suite("applier validation")
struct DeltaApplierTests {
    static let source = bytes("0123456789abcdefghijklmnopqrstuvwxyz")

    /// A delta whose trailer is the right checksum for `output`.
    static func delta(_ body: String, output: String) -> [UInt8] {
        bytes(body) + DeltaBase64.encode(DeltaChecksum.checksum(bytes(output))) + bytes(";")
    }

    static func reason(_ delta: [UInt8], source: [UInt8] = source, max: Int = DeltaApplier.defaultMaxOutputSize) -> DeltaError.Reason? {
        do {
            _ = try DeltaApplier.apply(source: source, delta: delta, maxOutputSize: max)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("copies and inserts in any order, including zero-length ones")
    func valid() throws {
        let output = "abc!!0123z"
        let delta = Self.delta("A\n3@A,0@Z,2:!!0:4@0,1@Z,", output: output)
        #expect(try DeltaApplier.apply(source: Self.source, delta: delta) == bytes(output))
        #expect(try DeltaApplier.apply(source: [], delta: bytes("0\n0;")) == [])
        // A copy may end exactly at the end of the source.
        #expect(try DeltaApplier.apply(source: Self.source, delta: Self.delta("1\n1@Z,", output: "z")) == bytes("z"))
    }

    @Test("header problems")
    func header() {
        #expect(Self.reason([]) == .missingInteger)
        #expect(Self.reason(bytes("\n0;")) == .missingInteger)
        #expect(Self.reason(bytes("3")) == .headerNotTerminated)
        #expect(Self.reason(bytes("3;")) == .headerNotTerminated)
        #expect(Self.reason(bytes("4000000\n")) == .integerOverflow, "2^36 does not fit in 32 bits")
        #expect(Self.reason(bytes("3~~~~~\n")) == .targetTooLarge, "u32 max is beyond 64 MiB")
    }

    @Test("declared size is bounded by maxOutputSize before anything is allocated")
    func outputBound() {
        #expect(Self.reason(bytes("11\n"), max: 64) == .targetTooLarge)
        #expect(Self.reason(bytes("10\n"), max: 64) == .unterminated)
        #expect(Self.reason(bytes("0\n0;"), max: 0) == nil)
        #expect(Self.reason(bytes("1\n"), max: -1) == .targetTooLarge)
        let limit = 4 << 20
        #expect(Self.reason(bytes("G0000\n"), max: limit) == .targetTooLarge, "16 MiB + 0 over a 4 MiB bound")
    }

    @Test("integers must use the alphabet and fit in 32 bits")
    func integers() {
        // 0xB0 & 0x7F is '0': the reference decoders would read it as a digit.
        #expect(Self.reason([0xB0, 0x0A, 0x30, 0x3B]) == .missingInteger)
        #expect(Self.reason(bytes("1\n") + [0xB1] + bytes("@0,")) == .missingInteger)
        #expect(Self.reason(bytes("1\n1@4000000,")) == .integerOverflow)
        #expect(Self.reason(bytes("1\n@0,0;")) == .missingInteger)
        #expect(Self.reason(bytes("1\n1@,0;")) == .missingInteger)
        #expect(Self.reason(bytes("0\n4000000;")) == .integerOverflow)
    }

    @Test("copies stay inside the source with no 32-bit wraparound")
    func copyBounds() {
        #expect(Self.reason(Self.delta("A\nA@Q,", output: "qrstuvwxyz")) == nil, "26 + 10 = 36 ends exactly at the end")
        #expect(Self.reason(bytes("A\nA@R,")) == .copyOutOfRange)
        // offset + count = 2^32 + 9 would wrap to 9 in u32 arithmetic.
        #expect(Self.reason(bytes("A\nA@3~~~~~,")) == .copyOutOfRange)
        #expect(Self.reason(bytes("A\n0@10,")) == .copyOutOfRange, "even an empty copy must lie inside the source")
        #expect(Self.reason(bytes("5\n5@0")) == .copyNotTerminated)
        #expect(Self.reason(bytes("5\n5@0;")) == .copyNotTerminated)
        #expect(Self.reason(bytes("5\n5@0.0;")) == .copyNotTerminated)
    }

    @Test("output never exceeds the declared size and must reach it")
    func outputSize() {
        #expect(Self.reason(bytes("2\n1@0,2@0,")) == .outputOverflow)
        #expect(Self.reason(bytes("2\n2@0,1:x")) == .outputOverflow)
        #expect(Self.reason(Self.delta("3\n2@0,", output: "01")) == .sizeMismatch)
    }

    @Test("inserts cannot run past the delta")
    func insertBounds() {
        #expect(Self.reason(bytes("3\n3:ab")) == .insertPastEnd)
        #expect(Self.reason(bytes("3\n3:")) == .insertPastEnd)
        #expect(Self.reason(bytes("3\n3:abc")) == .unterminated, "exactly enough bytes, then nothing")
        // The Go port compares against the whole delta length; the remaining bytes are what count.
        #expect(Self.reason(bytes("6\n6:abc0;")) == .insertPastEnd, "6 > 5 bytes left, though < 9 in all")
    }

    @Test("operators, terminator and trailer")
    func structure() {
        #expect(Self.reason(bytes("3\n3?abc0;")) == .unknownOperator)
        #expect(Self.reason(bytes("3\n3")) == .unterminated)
        #expect(Self.reason(bytes("3\n3:abc")) == .unterminated)
        #expect(Self.reason(bytes("0\n")) == .unterminated)
        #expect(Self.reason(bytes("0\n0;\n")) == .trailingBytes)
        #expect(Self.reason(bytes("0\n1;")) == .checksumMismatch)
        #expect(Self.reason(Self.delta("3\n3:abc", output: "abd")) == .checksumMismatch)
    }

    @Test("errors carry a position and a readable description")
    func errorDetails() {
        do {
            _ = try DeltaApplier.apply(source: Self.source, delta: bytes("3\n3?abc0;"))
            Issue.record("accepted an unknown operator")
        } catch {
            #expect(error.offset == 3)
            #expect(error.description.contains("unknown delta operator"))
        }
    }
}
