import Foundation

/// The fossil test vectors of shared/spec (README there): located beside the repository (as CI lays
/// it out: `../shared` relative to the clone) or at the workplace's absolute path.
enum Vectors {
    struct Manifest: Decodable {
        struct Case: Decodable, Sendable, CustomStringConvertible {
            let name: String
            let source: Int
            let target: Int
            let delta: Int
            let checksum: UInt32
            var description: String { name }
        }
        struct Malformed: Decodable, Sendable, CustomStringConvertible {
            let name: String
            let why: String
            var description: String { name }
        }
        let cases: [Case]
        let malformed: [Malformed]
    }

    /// The vectors directory, or nil when neither location has it.
    static let directory: URL? = {
        // Tests/StrataDeltaTests/VectorSupport.swift → repository root → its sibling shared/.
        let repositoryRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/spec/vectors/fossil"),
            URL(fileURLWithPath: "/work/shared/spec/vectors/fossil"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("manifest.json").path) }
    }()

    static let manifest: Manifest? = {
        guard let data = try? Data(contentsOf: file("manifest.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }()

    /// Test arguments; empty when the vectors are missing, which `VectorPresenceTests` reports.
    static var cases: [Manifest.Case] { manifest?.cases ?? [] }
    static var malformed: [Manifest.Malformed] { manifest?.malformed ?? [] }

    static func file(_ relativePath: String) -> URL {
        (directory ?? URL(fileURLWithPath: "/nonexistent")).appendingPathComponent(relativePath)
    }

    /// Bytes of a vector file, or nil when it does not exist (only `go-port/` files are optional).
    static func bytes(_ relativePath: String) -> [UInt8]? {
        (try? Data(contentsOf: file(relativePath))).map { [UInt8]($0) }
    }
}
