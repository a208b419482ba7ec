import StrataCore
import Testing

private func leaf(_ key: String, _ cmp: String, _ val: String = "", vals: [String] = []) -> FilterNode {
    FilterNode(key: key, cmp: cmp, val: val, vals: vals)
}

@Suite("Tags filter: validation (Centrifugo's filter.Validate)")
struct TagsFilterValidationTests {
    static let invalid: [(String, FilterNode)] = [
        ("leaf without cmp", leaf("k", "")),
        ("unknown cmp", leaf("k", "like", "x")),
        ("unknown op", FilterNode(op: "xor", nodes: [leaf("k", "ex")])),
        ("ops are case-sensitive", FilterNode(op: "AND", nodes: [leaf("k", "ex")])),
        ("eq without val (no filtering on the empty string)", leaf("k", "eq")),
        ("eq with vals", leaf("k", "eq", "a", vals: ["b"])),
        ("gt without val", leaf("k", "gt")),
        ("in without vals", leaf("k", "in")),
        ("in with val", leaf("k", "in", "a", vals: ["a"])),
        ("ex with val", leaf("k", "ex", "a")),
        ("nex with vals", leaf("k", "nex", vals: ["a"])),
        ("eq with empty key", leaf("", "eq", "a")),
        ("in with empty key", leaf("", "in", vals: ["a"])),
        ("and without children", FilterNode(op: "and")),
        ("or without children", FilterNode(op: "or")),
        ("not with two children", FilterNode(op: "not", nodes: [leaf("a", "ex"), leaf("b", "ex")])),
        ("not without a child", FilterNode(op: "not")),
        ("an invalid child deep down", FilterNode(op: "and", nodes: [leaf("a", "ex"), FilterNode(op: "or", nodes: [leaf("b", "zz", "1")])])),
    ]

    @Test(arguments: invalid.indices)
    func refused(_ i: Int) {
        #expect(throws: TagsFilterError.self, "\(Self.invalid[i].0)") { try TagsFilter(Self.invalid[i].1) }
    }

    @Test func validTrees() throws {
        _ = try TagsFilter(leaf("", "ex"))  // ex/nex may name the empty key
        _ = try TagsFilter(leaf("k", "in", vals: [""]))  // empty strings inside vals are fine
        _ = try TagsFilter(leaf("k", "gt", "not a number"))  // not checked: it just never matches
        _ = try TagsFilter(FilterNode(op: "not", nodes: [FilterNode(op: "or", nodes: [leaf("a", "eq", "1"), leaf("b", "sw", "x")])]))
    }
}

@Suite("Tags filter: matching (Centrifugo's filter.Match)")
struct TagsFilterMatchTests {
    static let tags = ["ticker": "AAPL", "price": "101.50", "source": "NASDAQ", "empty": "", "note": "héllo"]

    /// (filter, matches `tags`)
    static let rows: [(FilterNode, Bool)] = [
        (leaf("ticker", "eq", "AAPL"), true), (leaf("ticker", "eq", "aapl"), false), (leaf("nope", "eq", "x"), false),
        (leaf("ticker", "neq", "MSFT"), true), (leaf("ticker", "neq", "AAPL"), false), (leaf("nope", "neq", "x"), true),
        (leaf("source", "in", vals: ["NYSE", "NASDAQ"]), true), (leaf("source", "in", vals: ["NYSE"]), false),
        (leaf("nope", "in", vals: ["x"]), false), (leaf("nope", "in", vals: ["", "x"]), true),
        (leaf("source", "nin", vals: ["NYSE"]), true), (leaf("source", "nin", vals: ["NASDAQ"]), false),
        (leaf("nope", "nin", vals: ["x"]), true), (leaf("nope", "nin", vals: [""]), false),
        (leaf("empty", "ex"), true), (leaf("nope", "ex"), false), (leaf("nope", "nex"), true), (leaf("ticker", "nex"), false),
        (leaf("ticker", "sw", "AA"), true), (leaf("ticker", "sw", "PL"), false), (leaf("nope", "sw", "A"), false),
        (leaf("ticker", "ew", "PL"), true), (leaf("ticker", "ew", "AA"), false),
        (leaf("ticker", "ct", "AP"), true), (leaf("ticker", "ct", "X"), false), (leaf("note", "ct", "él"), true),
        // Unicode compares byte for byte: a decomposed é is another string.
        (leaf("note", "ct", "e\u{301}l"), false), (leaf("note", "eq", "he\u{301}llo"), false),
        (leaf("price", "gt", "100"), true), (leaf("price", "gt", "101.5"), false), (leaf("price", "gte", "101.5"), true),
        (leaf("price", "lt", "101.500000001"), true), (leaf("price", "lte", "101.49"), false), (leaf("price", "lt", "-5"), false),
        (leaf("ticker", "gt", "1"), false),  // a tag that is not a number matches no comparison
        (leaf("price", "gt", "1e2"), false),  // nor does a bound that is not one (no exponents)
        (leaf("nope", "lt", "1"), false),
        (FilterNode(op: "and", nodes: [leaf("ticker", "eq", "AAPL"), leaf("price", "gte", "100")]), true),
        (FilterNode(op: "and", nodes: [leaf("ticker", "eq", "AAPL"), leaf("price", "gte", "200")]), false),
        (FilterNode(op: "or", nodes: [leaf("ticker", "eq", "MSFT"), leaf("source", "eq", "NASDAQ")]), true),
        (FilterNode(op: "or", nodes: [leaf("ticker", "eq", "MSFT"), leaf("source", "eq", "NYSE")]), false),
        (FilterNode(op: "not", nodes: [leaf("source", "eq", "NYSE")]), true),
        (FilterNode(op: "not", nodes: [FilterNode(op: "and", nodes: [leaf("ticker", "ex"), leaf("price", "ex")])]), false),
    ]

    @Test(arguments: rows.indices)
    func row(_ i: Int) throws {
        let (node, expected) = Self.rows[i]
        #expect(try TagsFilter(node).matches(Self.tags) == expected, "\(node)")
    }
}

@Suite("ExactDecimal")
struct ExactDecimalTests {
    @Test func parsesWhatUdecimalParses() {
        for ok in ["0", "-0", "+7", "10", "10.0", "0.5", "007.50", "-3.1415926535897932384", "123456789012345678901234567890"] {
            #expect(ExactDecimal(ok) != nil, "\(ok)")
        }
        for bad in ["", "-", "+", ".5", "5.", "1e3", " 1", "1 ", "1.2.3", "0x10", "1,5", "∞", "1.12345678901234567890",
                    String(repeating: "9", count: 201)] {
            #expect(ExactDecimal(bad) == nil, "\(bad)")
        }
    }

    @Test func equalValuesWrittenDifferently() throws {
        #expect(ExactDecimal("10") == ExactDecimal("10.000"))
        #expect(ExactDecimal("-0") == ExactDecimal("0.0"))
        #expect(ExactDecimal("+1.5") == ExactDecimal("0001.50"))
    }

    /// Property: on numbers a Double holds exactly (integers and quarters), the order is the
    /// numbers' order, whatever zeros and signs the text carries.
    @Test func orderAgreesWithTheNumbers() throws {
        var rng = SystemRandomNumberGenerator()
        func text(_ quarters: Int) -> String {
            let sign = quarters < 0 ? "-" : (Bool.random(using: &rng) ? "+" : "")
            let m = abs(quarters)
            let pad = String(repeating: "0", count: Int.random(in: 0...2, using: &rng))
            let fraction = ["", ".25", ".5", ".75"][m % 4]
            let zeros = fraction.isEmpty ? "" : String(repeating: "0", count: Int.random(in: 0...3, using: &rng))
            return sign + pad + String(m / 4) + fraction + zeros
        }
        for _ in 0..<5_000 {
            let a = Int.random(in: -4_000...4_000, using: &rng)
            let b = Int.random(in: -4_000...4_000, using: &rng)
            let (ta, tb) = (text(a), text(b))
            let da = try #require(ExactDecimal(ta), "\(ta)")
            let db = try #require(ExactDecimal(tb), "\(tb)")
            #expect((da < db) == (a < b), "\(ta) < \(tb)")
            #expect((da == db) == (a == b), "\(ta) == \(tb)")
        }
    }
}
