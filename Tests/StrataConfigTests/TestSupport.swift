import Foundation
import StrataConfig

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-config-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try contents.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Decodes a JSON config document (and environment) the way the loader does.
func decodeJSON(_ json: String, env: [String: String] = [:]) throws -> StrataConfig {
    try ConfigLoader.decode(try ConfigFormats.parse(json, format: .json), environment: env)
}

/// The validation errors of a JSON config (empty when it loads).
func configErrors(_ json: String, env: [String: String] = [:]) -> [ConfigError] {
    do {
        _ = try decodeJSON(json, env: env)
        return []
    } catch let e as ConfigErrors {
        return e.errors
    } catch {
        return [ConfigError(path: "<unexpected>", message: "\(error)")]
    }
}

extension [ConfigError] {
    var paths: [String] { map(\.path) }
    func at(_ path: String) -> ConfigError? { first { $0.path == path } }
}

/// The namespace called `name`, if configured.
extension StrataConfig {
    func namespace(_ name: String) -> ChannelOptions? { channel.namespaces.first { $0.name == name } }
}
