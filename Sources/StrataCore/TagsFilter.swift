/// A subscriber's filter on publication tags, as the client sends it (`tf` of a subscribe,
/// Centrifugo's `FilterNode`): a leaf compares one tag (`key`, `cmp`, `val`/`vals`), `and`/`or`
/// combine children, `not` negates its one child. `docs/tags-filter.md` has the rules.
package struct FilterNode: Hashable, Sendable {
    package var op = ""
    package var key = ""
    package var cmp = ""
    package var val = ""
    package var vals: [String] = []
    package var nodes: [FilterNode] = []

    package init(op: String = "", key: String = "", cmp: String = "", val: String = "", vals: [String] = [], nodes: [FilterNode] = []) {
        self.op = op
        self.key = key
        self.cmp = cmp
        self.val = val
        self.vals = vals
        self.nodes = nodes
    }
}

/// Why a filter tree is refused (the client gets 107 bad request).
package struct TagsFilterError: Error, Hashable, Sendable, CustomStringConvertible {
    package let reason: String
    package var description: String { reason }
}

/// A filter checked and compiled once per subscription: sets for `in`/`nin`, numbers parsed for
/// the comparisons, so matching a publication reads its tags and nothing else.
package indirect enum TagsFilter: Hashable, Sendable {
    case all([TagsFilter])
    case any([TagsFilter])
    case not(TagsFilter)
    case equal(key: String, String)
    case notEqual(key: String, String)
    case oneOf(key: String, Set<[UInt8]>)
    case noneOf(key: String, Set<[UInt8]>)
    case exists(key: String)
    case missing(key: String)
    case hasPrefix(key: String, String)
    case hasSuffix(key: String, String)
    case contains(key: String, String)
    /// `lt`, `lte`, `gt`, `gte`: `bound` nil when the filter's value is not a number, and then
    /// nothing matches (as in Centrifugo, where a value that does not parse is no match).
    case compare(key: String, Comparison, bound: ExactDecimal?)

    package enum Comparison: Hashable, Sendable {
        case less, lessOrEqual, greater, greaterOrEqual
    }

    /// Checks `node` with Centrifugo's rules (filter.Validate) and compiles it.
    package init(_ node: FilterNode) throws(TagsFilterError) {
        switch node.op {
        case "and", "or":
            guard !node.nodes.isEmpty else { throw TagsFilterError(reason: "\(node.op) node must have at least one child") }
            var children: [TagsFilter] = []
            children.reserveCapacity(node.nodes.count)
            for child in node.nodes { children.append(try TagsFilter(child)) }
            self = node.op == "and" ? .all(children) : .any(children)
        case "not":
            guard node.nodes.count == 1 else { throw TagsFilterError(reason: "not node must have exactly one child") }
            self = .not(try TagsFilter(node.nodes[0]))
        case "":
            self = try Self.leaf(node)
        default:
            throw TagsFilterError(reason: "invalid op \"\(node.op)\"")
        }
    }

    private static func leaf(_ node: FilterNode) throws(TagsFilterError) -> TagsFilter {
        let key = node.key
        switch node.cmp {
        case "":
            throw TagsFilterError(reason: "leaf node must have cmp set")
        case "ex", "nex":
            guard node.val.isEmpty && node.vals.isEmpty else { throw TagsFilterError(reason: "\(node.cmp) takes no value") }
            return node.cmp == "ex" ? .exists(key: key) : .missing(key: key)
        case "in", "nin":
            guard !key.isEmpty else { throw TagsFilterError(reason: "leaf node must have key set") }
            guard !node.vals.isEmpty && node.val.isEmpty else { throw TagsFilterError(reason: "\(node.cmp) needs vals and no val") }
            let set = Set(node.vals.map { Array($0.utf8) })
            return node.cmp == "in" ? .oneOf(key: key, set) : .noneOf(key: key, set)
        case "eq", "neq", "sw", "ew", "ct", "lt", "lte", "gt", "gte":
            guard !key.isEmpty else { throw TagsFilterError(reason: "leaf node must have key set") }
            guard !node.val.isEmpty && node.vals.isEmpty else { throw TagsFilterError(reason: "\(node.cmp) needs val and no vals") }
            let val = node.val
            switch node.cmp {
            case "eq": return .equal(key: key, val)
            case "neq": return .notEqual(key: key, val)
            case "sw": return .hasPrefix(key: key, val)
            case "ew": return .hasSuffix(key: key, val)
            case "ct": return .contains(key: key, val)
            case "lt": return .compare(key: key, .less, bound: ExactDecimal(val))
            case "lte": return .compare(key: key, .lessOrEqual, bound: ExactDecimal(val))
            case "gt": return .compare(key: key, .greater, bound: ExactDecimal(val))
            default: return .compare(key: key, .greaterOrEqual, bound: ExactDecimal(val))
            }
        default:
            throw TagsFilterError(reason: "unknown comparison operator \"\(node.cmp)\"")
        }
    }

    /// Whether a publication with `tags` passes. A missing tag counts as the empty string for
    /// `in`/`nin` and as "not equal" for `neq`, as Centrifugo's filter.Match has it. Strings
    /// compare byte for byte, as Go's do (Swift's `==` would equate canonically equivalent
    /// Unicode, which Centrifugo does not).
    package func matches(_ tags: [String: String]) -> Bool {
        switch self {
        case .all(let children): return children.allSatisfy { $0.matches(tags) }
        case .any(let children): return children.contains { $0.matches(tags) }
        case .not(let child): return !child.matches(tags)
        case .equal(let key, let v): return tags[key].map { Bytes.equal($0, v) } ?? false
        case .notEqual(let key, let v): return !(tags[key].map { Bytes.equal($0, v) } ?? false)
        case .oneOf(let key, let set): return set.contains(Array((tags[key] ?? "").utf8))
        case .noneOf(let key, let set): return !set.contains(Array((tags[key] ?? "").utf8))
        case .exists(let key): return tags[key] != nil
        case .missing(let key): return tags[key] == nil
        case .hasPrefix(let key, let v): return tags[key].map { $0.utf8.starts(with: v.utf8) } ?? false
        case .hasSuffix(let key, let v): return tags[key].map { $0.utf8.reversed().starts(with: v.utf8.reversed()) } ?? false
        case .contains(let key, let v): return tags[key].map { Bytes.contains($0, v) } ?? false
        case .compare(let key, let comparison, let bound):
            guard let bound, let text = tags[key], let value = ExactDecimal(text) else { return false }
            switch comparison {
            case .less: return value < bound
            case .lessOrEqual: return value <= bound
            case .greater: return value > bound
            case .greaterOrEqual: return value >= bound
            }
        }
    }
}

/// Byte-wise string comparisons (Go's semantics).
private enum Bytes {
    static func equal(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8)
        let n = Array(needle.utf8)
        guard n.count <= h.count else { return false }
        if n.isEmpty { return true }
        for start in 0...(h.count - n.count) where h[start] == n[0] && h[start..<start + n.count].elementsEqual(n) {
            return true
        }
        return false
    }
}
