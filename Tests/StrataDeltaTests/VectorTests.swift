import Foundation
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Testing
@testable import StrataDelta

@Suite("fossil vectors")
struct VectorTests {
    @Test("the vector set is present and complete")
    func vectorsPresent() throws {
        let directory = try #require(Vectors.directory, "Tests/StrataDeltaTests/Vectors/fossil is missing")
        let manifest = try #require(Vectors.manifest, "cannot read \(directory.path)/manifest.json")
        #expect(manifest.cases.count == 39)
        #expect(manifest.malformed.count == 12)
    }

    /// Byte identity per the vectors' README: Go mode reproduces `go-port/NAME.delta` where it
    /// exists, else `NAME.delta`; C mode always `NAME.delta`.
    @Test("encoder is byte-identical to the reference", arguments: Vectors.cases)
    func encoderMatches(_ vector: Vectors.Manifest.Case) throws {
        let source = try #require(Vectors.bytes("\(vector.name).source"))
        let target = try #require(Vectors.bytes("\(vector.name).target"))
        let cDelta = try #require(Vectors.bytes("\(vector.name).delta"))
        let goDelta = Vectors.bytes("go-port/\(vector.name).delta") ?? cDelta
        #expect(source.count == vector.source && target.count == vector.target && cDelta.count == vector.delta)

        #expect(DeltaEncoder.create(source: source, target: target, mode: .fossilC) == cDelta)
        #expect(DeltaEncoder.create(source: source, target: target, mode: .goPort) == goDelta)
        #expect(DeltaEncoder.create(source: source, target: target) == goDelta, "default mode is the Go port")
        #expect(DeltaChecksum.checksum(target) == vector.checksum)
    }

    @Test("applier reproduces the target from both reference deltas", arguments: Vectors.cases)
    func applierMatches(_ vector: Vectors.Manifest.Case) throws {
        let source = try #require(Vectors.bytes("\(vector.name).source"))
        let target = try #require(Vectors.bytes("\(vector.name).target"))
        let cDelta = try #require(Vectors.bytes("\(vector.name).delta"))
        #expect(try DeltaApplier.apply(source: source, delta: cDelta) == target)
        if let goDelta = Vectors.bytes("go-port/\(vector.name).delta") {
            #expect(goDelta != cDelta)
            #expect(try DeltaApplier.apply(source: source, delta: goDelta) == target)
        }
    }

    @Test("exactly the three documented cases differ between the modes")
    func goPortVariants() throws {
        let variants = Vectors.cases.map(\.name).filter { Vectors.bytes("go-port/\($0).delta") != nil }
        #expect(Set(variants) == ["long_collision_chain", "text_1mib_scattered_edits", "unicode_cjk_emoji_json"])
    }

    /// What each malformed sample must be rejected for; a different reason would mean a check fires
    /// for the wrong cause (or a missing one is masked by another).
    static let expectedReasons: [String: DeltaError.Reason] = [
        "bad_checksum": .checksumMismatch,
        "truncated_no_terminator": .unterminated,
        "truncated_mid_insert": .insertPastEnd,
        "header_not_newline": .headerNotTerminated,
        "empty_delta": .missingInteger,
        "copy_past_source_end": .copyOutOfRange,
        "copy_exceeds_target_size": .outputOverflow,
        "insert_exceeds_target_size": .outputOverflow,
        "insert_longer_than_delta": .insertPastEnd,
        "size_mismatch_short": .sizeMismatch,
        "unknown_operator": .unknownOperator,
        "copy_missing_comma": .copyNotTerminated,
    ]

    @Test("every malformed delta is rejected for its reason", arguments: Vectors.malformed)
    func malformedRejected(_ vector: Vectors.Manifest.Malformed) throws {
        let source = try #require(Vectors.bytes("malformed/\(vector.name).source"))
        let delta = try #require(Vectors.bytes("malformed/\(vector.name).delta"))
        let expected = try #require(Self.expectedReasons[vector.name], "no expectation for \(vector.name)")
        let error = #expect(throws: DeltaError.self) { try DeltaApplier.apply(source: source, delta: delta) }
        #expect(error?.reason == expected, "\(vector.why)")
    }
}
