import Foundation
import TOMLKit
import Yams

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
                guard let any = try Yams.load(yaml: text) else { return .object([:]) }
                return try fromAny(any, path: "")
            case .toml:
                let table = try TOMLTable(string: text)
                return fromTOML(table)
            }
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(path: "", message: "cannot parse \(format.rawValue): \(error)")
        }
    }

    static func fromAny(_ any: Any, path: String) throws(ConfigError) -> ConfigValue {
        switch any {
        case is NSNull: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let d as Double: return .double(d)
        case let s as String: return .string(s)
        case let a as [Any]:
            var out: [ConfigValue] = []
            for (i, item) in a.enumerated() { out.append(try fromAny(item, path: "\(path)[\(i)]")) }
            return .array(out)
        case let d as [String: Any]:
            var out: [String: ConfigValue] = [:]
            for (k, v) in d { out[k] = try fromAny(v, path: path.isEmpty ? k : "\(path).\(k)") }
            return .object(out)
        case let d as [AnyHashable: Any]:
            var out: [String: ConfigValue] = [:]
            for (k, v) in d {
                let key = "\(k.base)"
                out[key] = try fromAny(v, path: path.isEmpty ? key : "\(path).\(key)")
            }
            return .object(out)
        default:
            throw ConfigError(path: path, message: "unsupported value \(any)")
        }
    }

    static func fromTOML(_ v: any TOMLValueConvertible) -> ConfigValue {
        switch v.type {
        case .table:
            var out: [String: ConfigValue] = [:]
            if let t = v.table { for (k, item) in t { out[k] = fromTOML(item) } }
            return .object(out)
        case .array:
            return .array((v.array.map { Array($0) } ?? []).map { fromTOML($0) })
        case .string: return .string(v.string ?? "")
        case .int: return .int(Int64(v.int ?? 0))
        case .double: return .double(v.double ?? 0)
        case .bool: return .bool(v.bool ?? false)
        default: return .string("\(v)")
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
