import Foundation

/// The fossil test vectors in `Tests/StrataDeltaTests/Vectors/fossil` (README there).
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

    /// The vectors directory, beside this file; nil if it went missing.
    static let directory: URL? = {
        let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/fossil")
        return FileManager.default.fileExists(atPath: vectors.appendingPathComponent("manifest.json").path) ? vectors : nil
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
