/// A configuration document in any of the three formats, as one tree.
package indirect enum ConfigValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Whether a setting is switched on: true, a non-empty string or list, a non-zero number
    /// (strings from the environment: anything but empty, "false", "0" and "f").
    var isOn: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !["", "false", "0", "f"].contains(s.lowercased())
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }
}

/// A bad configuration value, named by its key path (e.g. `channel.namespaces[0].history_ttl`).
package struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    package let path: String
    package let message: String

    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    package var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Every problem found while loading, so `checkconfig` can list them all at once.
package struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    package let errors: [ConfigError]
    package var description: String { errors.map(\.description).joined(separator: "\n") }
}
