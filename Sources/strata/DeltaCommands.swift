import ArgumentParser
import Foundation
import StrataDelta

/// `strata delta create|apply`: the fossil codec on files, for users debugging deltas.
struct Delta: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fossil delta encoder and applier (the format delta subscriptions use).",
        discussion: """
            Examples:
              strata delta create v1.json v2.json -o d.bin && strata delta apply v1.json d.bin
            """,
        subcommands: [Create.self, Apply.self])

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        return Array(data)
    }

    static func write(_ bytes: [UInt8], to output: String?) throws {
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw ValidationError("cannot write \(output)")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the delta that turns SOURCE into TARGET.",
            discussion: """
            Examples:
              strata delta create old.json new.json -o delta.bin
              strata delta create old.json new.json --fossil-c | wc -c
            """)
        @Argument(help: "Source (base) file.") var source: String
        @Argument(help: "Target file.") var target: String
        @Option(name: [.short, .long], help: "Write the delta here instead of standard output.") var output: String?
        @Flag(help: "Byte-identical to fossil's C encoder instead of the Go port Centrifugo uses.") var fossilC = false

        func run() async throws {
            let delta = DeltaEncoder.create(source: try Delta.read(source), target: try Delta.read(target), mode: fossilC ? .fossilC : .goPort)
            try Delta.write(delta, to: output)
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply DELTA to SOURCE (sizes, ranges and checksum are checked).",
            discussion: """
            Examples:
              strata delta apply old.json delta.bin -o new.json
            """)
        @Argument(help: "Source (base) file.") var source: String
        @Argument(help: "Delta file.") var delta: String
        @Option(name: [.short, .long], help: "Write the result here instead of standard output.") var output: String?

        func run() async throws {
            do {
                let result = try DeltaApplier.apply(source: try Delta.read(source), delta: try Delta.read(delta))
                try Delta.write(result, to: output)
            } catch let error as DeltaError {
                throw ValidationError("invalid delta: \(error)")
            }
        }
    }
}
