/// Reads typed values out of a `ConfigValue` tree by key path, applying environment overrides
/// (`CENTRIFUGO_…` / `STRATA_…`) and remembering which keys were known, so unknown ones can be
/// reported and bad ones named by their path.
final class ConfigReader {
    private let root: ConfigValue
    private let environment: [String: String]
    private(set) var errors: [ConfigError] = []
    private var visited: Set<String> = []

    init(root: ConfigValue, environment: [String: String]) {
        self.root = root
        self.environment = environment
    }

    // MARK: Lookup

    private func components(_ path: String) -> [String] { path.split(separator: ".").map(String.init) }

    private func value(at path: String, in base: ConfigValue? = nil) -> ConfigValue? {
        var node = base ?? root
        for part in components(path) {
            guard case .object(let dict) = node, let next = dict[part] else { return nil }
            node = next
        }
        return node
    }

    /// The object at `path`, or an empty object, to read a section relative to.
    func subtree(_ path: String) -> ConfigValue {
        value(at: path) ?? .object([:])
    }

    /// Environment names for a key path: `client.token.hmac_secret_key` ⇒ `CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY`
    /// (and the same with `STRATA_`, which wins). Empty values count as unset.
    private func envValue(_ envKey: String) -> String? {
        for prefix in ["STRATA_", "CENTRIFUGO_"] {
            if let v = environment[prefix + envKey], !v.isEmpty { return v }
        }
        return nil
    }

    static func envKey(_ path: String) -> String {
        String(path.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// The raw value for `path`: environment first, then the file.
    /// `scope` lets namespace entries read relative to their array element.
    func raw(_ path: String, scope: Scope = .root) -> (ConfigValue, fromEnv: Bool)? {
        let fullPath = scope.pathPrefix + path
        visited.insert(fullPath)
        if let env = envValue(scope.envPrefix + Self.envKey(path)) { return (.string(env), true) }
        let base = scope.base ?? root
        return value(at: path, in: base).map { ($0, false) }
    }

    struct Scope {
        var pathPrefix: String
        var envPrefix: String
        var base: ConfigValue?
        static let root = Scope(pathPrefix: "", envPrefix: "", base: nil)
    }

    func fail(_ path: String, _ message: String) {
        errors.append(ConfigError(path: path, message: message))
    }

    // MARK: Typed reads

    func bool(_ path: String, _ def: Bool, scope: Scope = .root) -> Bool {
        guard let (v, _) = raw(path, scope: scope) else { return def }
        switch v {
        case .bool(let b): return b
        case .string(let s):
            switch s.lowercased() {
            case "true", "1", "t": return true
            case "false", "0", "f": return false
            default: break
            }
        case .null: return def
        default: break
        }
        fail(scope.pathPrefix + path, "expected a boolean, got \(describe(v))")
        return def
    }

    func int(_ path: String, _ def: Int, scope: Scope = .root) -> Int {
        guard let (v, _) = raw(path, scope: scope) else { return def }
        switch v {
        case .int(let i): return Int(i)
        case .double(let d): if let i = Int(exactly: d) { return i }
        case .string(let s): if let i = Int(s) { return i }
        case .null: return def
        default: break
        }
        fail(scope.pathPrefix + path, "expected an integer, got \(describe(v))")
        return def
    }

    func string(_ path: String, _ def: String, scope: Scope = .root) -> String {
        guard let (v, _) = raw(path, scope: scope) else { return def }
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .null: return def
        default:
            fail(scope.pathPrefix + path, "expected a string, got \(describe(v))")
            return def
        }
    }

    /// String lists; from the environment they are space separated.
    func strings(_ path: String, _ def: [String], scope: Scope = .root) -> [String] {
        guard let (v, fromEnv) = raw(path, scope: scope) else { return def }
        if fromEnv, case .string(let s) = v { return s.split(separator: " ").map(String.init) }
        switch v {
        case .array(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    fail("\(scope.pathPrefix)\(path)[\(i)]", "expected a string, got \(describe(item))")
                    continue
                }
                out.append(s)
            }
            return out
        case .string(let s): return [s]
        case .null: return def
        default:
            fail(scope.pathPrefix + path, "expected a list of strings, got \(describe(v))")
            return def
        }
    }

    /// Durations in milliseconds ("25s", "720h", …); -1 when disabled with "-1".
    func duration(_ path: String, _ defMillis: Int64, scope: Scope = .root) -> Int64 {
        guard let (v, _) = raw(path, scope: scope) else { return defMillis }
        switch v {
        case .string(let s):
            if let ms = Durations.parseMillis(s) { return ms }
        case .int(let i): if let ms = Durations.seconds(i) { return ms }
        case .null: return defMillis
        default: break
        }
        fail(scope.pathPrefix + path, "expected a duration such as \"25s\" (at most 292 years), got \(describe(v))")
        return defMillis
    }

    /// An array of objects; from the environment it is one JSON string.
    func objects(_ path: String, scope: Scope = .root) -> [ConfigValue] {
        guard let (v, fromEnv) = raw(path, scope: scope) else { return [] }
        // The elements' keys are checked one by one; the list itself must not count as fully known.
        visited.remove(scope.pathPrefix + path)
        var value = v
        if fromEnv, case .string(let s) = v {
            do {
                value = try ConfigFormats.parse(s, format: .json)
            } catch {
                fail(scope.pathPrefix + path, "environment value is not a JSON array: \(error.message)")
                return []
            }
        }
        switch value {
        case .array(let items): return items
        case .null: return []
        default:
            fail(scope.pathPrefix + path, "expected a list, got \(describe(value))")
            return []
        }
    }

    /// The objects of a list whose entries are named (`channel.namespaces`, `proxies`, …): each
    /// with its path (`proxies[0]`) and its `name` (`""` when missing); an entry that is not an
    /// object is an error and left out.
    func namedObjects(_ path: String) -> [(path: String, name: String, item: ConfigValue)] {
        var out: [(path: String, name: String, item: ConfigValue)] = []
        for (i, item) in objects(path).enumerated() {
            let itemPath = "\(path)[\(i)]"
            guard case .object(let fields) = item else {
                fail(itemPath, "expected an object")
                continue
            }
            var name = ""
            if case .string(let n)? = fields["name"] { name = n }
            _ = raw(itemPath + ".name")
            out.append((itemPath, name, item))
        }
        return out
    }

    /// Centrifugo's rule for namespace and proxy names: `^[-a-zA-Z0-9_.]{2,}$` (`allowed` holds
    /// the punctuation; consumers allow only `_`).
    static func isName(_ name: String, allowing allowed: String = "-_.") -> Bool {
        name.count >= 2 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || allowed.contains($0)) }
    }

    private func describe(_ v: ConfigValue) -> String {
        switch v {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        default: return v.typeName
        }
    }

    // MARK: Unknown keys

    /// Every key path asked for so far (`ConfigKeysTests` compares them with `ConfigKeys`).
    var keysRead: Set<String> { visited }

    /// Keys in the file that no reader asked for (a key Strata does not act on is read too, by
    /// `ConfigLoader.checkKeysNotActedOn`, with the whole section below it).
    func unknownKeys() -> [String] {
        var out: [String] = []
        func walk(_ node: ConfigValue, _ path: String) {
            if !path.isEmpty && visited.contains(path) { return }
            switch node {
            case .object(let dict):
                // An object is known when something below it was read.
                if !path.isEmpty && !visited.contains(where: { $0.hasPrefix(path + ".") || $0.hasPrefix(path + "[") }) {
                    out.append(path)
                    return
                }
                for (k, v) in dict { walk(v, path.isEmpty ? k : "\(path).\(k)") }
            case .array(let items):
                if !visited.contains(where: { $0.hasPrefix(path + "[") }) {
                    out.append(path)
                    return
                }
                for (i, item) in items.enumerated() { walk(item, "\(path)[\(i)]") }
            default:
                out.append(path)
            }
        }
        walk(root, "")
        return out.sorted()
    }
}
