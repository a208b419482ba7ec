import Foundation

/// Reads JSON, YAML and TOML documents into a `ConfigValue` tree, choosing by file extension.
package enum ConfigFormats {
    package enum Format: String, Sendable {
        case json, yaml, toml

        package init?(path: String) {
            let ext = (path as NSString).pathExtension.lowercased()
            switch ext {
            case "json": self = .json
            case "yaml", "yml": self = .yaml
            case "toml": self = .toml
            default: return nil
            }
        }
    }

    package static func parse(_ text: String, format: Format) throws(ConfigError) -> ConfigValue {
        do {
            switch format {
            case .json:
                if text.allSatisfy(\.isWhitespace) { return .object([:]) }
                return try JSONDecoder().decode(ConfigValue.self, from: Data(text.utf8))
            case .yaml:
                return try YAMLReader.parse(text)
            case .toml:
                return try TOMLReader.parse(text)
            }
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(path: "", message: "cannot parse \(format.rawValue): \(error)")
        }
    }
}

extension ConfigValue: Decodable {
    /// JSON documents decode straight into the tree; the order of attempts keeps `true` a bool and
    /// `10` an integer.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([ConfigValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: ConfigValue].self))
        }
    }
}
