import Yams

/// Reads a YAML document into a `ConfigValue` tree: libyaml's parser through Yams's `compose`
/// (a tree of nodes with resolved tags), converted here rather than by Yams's constructor.
///
/// Why not `Yams.load`: its constructor force-unwraps mapping keys as strings, so a document with
/// a list or a mapping as a key (`? [a]`, `[a]: 1`, `!!set {? [a]}`) aborted the process — found
/// by the config fuzz harness (docs/reliability.md). Here such a key is an error naming its path.
/// Aliases are followed with a budget: a few lines of nested aliases ("billion laughs") would
/// otherwise expand to billions of values. libyaml itself stops nesting at 1,000 levels.
enum YAMLReader {
    /// The most values a document may expand to, aliases followed.
    static let maxValues = 1_000_000

    static func parse(_ text: String) throws(ConfigError) -> ConfigValue {
        try YAMLKeyCheck.check(text)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(path: "", message: "cannot parse yaml: \(error)")
        }
        guard let root else { return .object([:]) }
        var budget = maxValues
        return try value(root, path: "", budget: &budget)
    }

    private static func value(_ node: Node, path: String, budget: inout Int) throws(ConfigError) -> ConfigValue {
        budget -= 1
        guard budget >= 0 else {
            throw ConfigError(path: path, message: "the document expands to more than \(maxValues) values (aliases inside aliases?)")
        }
        switch node {
        case .scalar(let scalar):
            return self.scalar(node, scalar)
        case .sequence(let sequence):
            var items: [ConfigValue] = []
            items.reserveCapacity(sequence.count)
            for (index, item) in sequence.enumerated() {
                items.append(try value(item, path: "\(path)[\(index)]", budget: &budget))
            }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: ConfigValue] = [:]
            var merged: [Node] = []
            for (keyNode, item) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigError(path: path, message: "a mapping key must be a plain value, not a list or a mapping")
                }
                if Resolver.default.resolveTag(of: keyNode) == .merge {
                    merged.append(item)
                    continue
                }
                let itemPath = path.isEmpty ? key.string : "\(path).\(key.string)"
                members[key.string] = try value(item, path: itemPath, budget: &budget)
            }
            // `<<: *base` (or a list of them): the merged mappings' keys, where this one has none.
            for source in merged {
                let sources: [Node] = if case .sequence(let list) = source { Array(list) } else { [source] }
                for source in sources {
                    guard case .object(let inherited) = try value(source, path: path, budget: &budget) else {
                        throw ConfigError(path: path, message: "<< must merge a mapping or a list of mappings")
                    }
                    members.merge(inherited) { mine, _ in mine }
                }
            }
            return .object(members)
        case .alias:
            // compose resolves aliases to their anchored nodes; an unresolved one is refused.
            throw ConfigError(path: path, message: "an alias that names no anchor")
        }
    }

    /// A YAML 1.1 integer (what Yams resolves as `!!int`): decimal, `0b` binary, `0x` hex, `0o`
    /// or leading-zero octal, or sexagesimal (`1:30` is 90), underscores allowed; nil when it does
    /// not fit in 64 bits.
    static func integer(_ text: String) -> Int64? {
        var digits = Substring(text.filter { $0 != "_" })
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        // Int64's parser takes a sign of its own: only the one just read is allowed.
        guard !digits.isEmpty, !digits.contains(where: { $0 == "-" || $0 == "+" }) else { return nil }
        let magnitude: Int64?
        if digits.contains(":") {
            var total: Int64 = 0
            for part in digits.split(separator: ":", omittingEmptySubsequences: false) {
                guard let value = Int64(part, radix: 10) else { return nil }
                let (times, overflow) = total.multipliedReportingOverflow(by: 60)
                let (sum, overflow2) = times.addingReportingOverflow(value)
                guard !overflow, !overflow2 else { return nil }
                total = sum
            }
            magnitude = total
        } else if digits.hasPrefix("0x") {
            magnitude = Int64(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0b") {
            magnitude = Int64(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0o") {
            magnitude = Int64(digits.dropFirst(2), radix: 8)
        } else if digits.count > 1, digits.hasPrefix("0") {
            magnitude = Int64(digits.dropFirst(), radix: 8)
        } else {
            magnitude = Int64(digits, radix: 10)
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// A scalar by its resolved tag (YAML 1.1's core schema, as Yams resolves it): null, bool,
    /// int, float, otherwise the text (strings, and timestamps or binary, which no setting is).
    private static func scalar(_ node: Node, _ scalar: Node.Scalar) -> ConfigValue {
        switch Resolver.default.resolveTag(of: node) {
        case .null: return .null
        case .bool: if let b = node.bool { return .bool(b) }
        case .int:
            // Not Yams's `Node.int`: it traps on a sexagesimal integer past 64 bits
            // (`22222222222222222222:22`, found by the config fuzz harness).
            if let i = integer(scalar.string) { return .int(i) }
            if let d = node.float { return .double(d) }
        case .float: if let d = node.float { return .double(d) }
        default: break
        }
        return .string(scalar.string)
    }
}
