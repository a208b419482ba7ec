import Foundation
import Testing
@testable import StrataDelta

/// Differential check against the reference encoder itself, where Debian's `fossil` is installed
/// (`apt-get install fossil`; the vectors' README names it as the reference). Skipped elsewhere:
/// the vectors already pin the behaviour, this widens it to random inputs.
@Suite("against the fossil binary", .enabled(if: FossilBinary.path != nil, "fossil is not installed"))
struct FossilDifferentialTests {
    @Test("C mode equals `fossil test-delta-create` and fossil applies Go-mode deltas")
    func randomPairs() throws {
        let fossil = try #require(FossilBinary.path)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("strata-delta-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("source")
        let target = directory.appendingPathComponent("target")
        let output = directory.appendingPathComponent("output")
        let ours = directory.appendingPathComponent("ours")

        for seed in UInt64(5000)..<5040 {
            let pair = PropertyTests.pair(seed: seed)
            try Data(pair.source).write(to: source)
            try Data(pair.target).write(to: target)

            try FossilBinary.run(fossil, "test-delta-create", source.path, target.path, output.path)
            let reference = try [UInt8](Data(contentsOf: output))
            #expect(DeltaEncoder.create(source: pair.source, target: pair.target, mode: .fossilC) == reference, "seed \(seed)")

            try Data(DeltaEncoder.create(source: pair.source, target: pair.target, mode: .goPort)).write(to: ours)
            try FossilBinary.run(fossil, "test-delta-apply", source.path, ours.path, output.path)
            #expect(try [UInt8](Data(contentsOf: output)) == pair.target, "seed \(seed)")
        }
    }
}

enum FossilBinary {
    static let path: String? = ["/usr/bin/fossil", "/usr/local/bin/fossil"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    struct Failed: Error { let status: Int32 }

    static func run(_ executable: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(status: process.terminationStatus) }
    }
}
