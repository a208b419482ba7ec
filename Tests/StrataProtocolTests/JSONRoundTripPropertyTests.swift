import Testing
import StrataCore
import StrataProtocol
import StrataTesting

/// The generator's own tree (JSONMember cannot be built outside the module, and an independent
/// model keeps the comparison honest).
private indirect enum Tree {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([Tree])
    case object([(String, Tree)])
}

private struct Generator {
    var rng: SplitMix

    /// Scalars that stress escaping and UTF-8: quotes, backslashes, every control range, multi-byte.
    static let palette: [Unicode.Scalar] = {
        var p: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{C}",
            "\u{1F}", "\u{7F}", "é", "ß", "中", "日", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "😀", "🎉", "\u{10FFFF}",
            "\u{E9}", "\u{301}", ":", ",", "{", "}", "[", "]"]
        p += (0x20...0x7E).compactMap(Unicode.Scalar.init)
        return p
    }()

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    mutating func string() -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<int(0...12) { s.append(Self.palette[int(0...(Self.palette.count - 1))]) }
        return String(s)
    }

    mutating func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(int(0...9))) }) }

    mutating func number() -> String {
        var n = int(0...3) == 0 ? "-" : ""
        if int(0...4) == 0 { n += "0" } else { n += String(int(1...9)) + digits(int(0...15)) }
        if int(0...2) == 0 { n += "." + digits(int(1...6)) }
        if int(0...3) == 0 { n += ["e", "E"][int(0...1)] + ["", "+", "-"][int(0...2)] + digits(int(1...3)) }
        return n
    }

    mutating func tree(depth: Int) -> Tree {
        let leafOnly = depth >= 5
        switch int(0...(leafOnly ? 3 : 5)) {
        case 0: return .null
        case 1: return .bool(int(0...1) == 1)
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<int(0...5)).map { _ in tree(depth: depth + 1) })
        default: return .object((0..<int(0...5)).map { _ in (string(), tree(depth: depth + 1)) })
        }
    }
}

/// Writes a tree compactly through the public JSONWriter API.
private func write(_ t: Tree, _ w: inout JSONWriter) {
    switch t {
    case .null: w.null()
    case .bool(let b): w.bool(b)
    case .number(let n): w.raw(Array(n.utf8))
    case .string(let s): w.string(s)
    case .array(let items):
        w.beginArray()
        for item in items {
            w.element()
            write(item, &w)
        }
        w.endArray()
    case .object(let members):
        w.beginObject()
        for (k, v) in members {
            w.key(k)
            write(v, &w)
        }
        w.endObject()
    }
}

private func compactBytes(_ t: Tree) -> [UInt8] {
    var w = JSONWriter()
    write(t, &w)
    return w.bytes
}

/// Same document with JSON whitespace sprinkled between every token.
private func pretty(_ t: Tree, _ g: inout Generator) -> [UInt8] {
    let ws: [[UInt8]] = [[], [0x20], [0x0A], [0x09, 0x20], [0x0D, 0x0A, 0x20, 0x20]]
    func gap() -> [UInt8] { ws[g.int(0...(ws.count - 1))] }
    switch t {
    case .null, .bool, .number, .string: return compactBytes(t)
    case .array(let items):
        var out: [UInt8] = [UInt8(ascii: "[")] + gap()
        for (i, item) in items.enumerated() {
            if i > 0 { out += gap() + [UInt8(ascii: ",")] + gap() }
            out += pretty(item, &g)
        }
        return out + gap() + [UInt8(ascii: "]")]
    case .object(let members):
        var out: [UInt8] = [UInt8(ascii: "{")] + gap()
        for (i, (k, v)) in members.enumerated() {
            if i > 0 { out += gap() + [UInt8(ascii: ",")] + gap() }
            out += compactBytes(.string(k)) + gap() + [UInt8(ascii: ":")] + gap() + pretty(v, &g)
        }
        return out + gap() + [UInt8(ascii: "}")]
    }
}

/// Structural equality between the parsed value and the generated tree; member `raw` bytes must
/// be exactly what the writer produced for that subtree when the input was compact.
private func same(_ v: JSONValue, _ t: Tree, checkRaw: Bool) -> Bool {
    switch (v, t) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return Array(a.unicodeScalars) == Array(b.unicodeScalars)
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { same($0, $1, checkRaw: checkRaw) }
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        for (m, (k, sub)) in zip(a, b) {
            guard Array(m.key.unicodeScalars) == Array(k.unicodeScalars), same(m.value, sub, checkRaw: checkRaw) else { return false }
            if checkRaw && Array(m.raw) != compactBytes(sub) { return false }
        }
        return true
    default: return false
    }
}

/// Writes a parsed value back (to check write∘parse is the identity on compact output).
private func rewrite(_ v: JSONValue, _ w: inout JSONWriter) {
    switch v {
    case .null: w.null()
    case .bool(let b): w.bool(b)
    case .number(let n): w.raw(Array(n.utf8))
    case .string(let s): w.string(s)
    case .array(let items):
        w.beginArray()
        for item in items {
            w.element()
            rewrite(item, &w)
        }
        w.endArray()
    case .object(let members):
        w.beginObject()
        for m in members {
            w.key(m.key)
            rewrite(m.value, &w)
        }
        w.endObject()
    }
}

@Suite("JSONWriter ⇄ JSONParser property")
struct JSONRoundTripPropertyTests {
    @Test("random trees survive write → parse", arguments: [0x5EED_0001, 0xC0FF_EE42, 20_260_704] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        var g = Generator(rng: SplitMix(state: seed))
        for iteration in 0..<150 {
            let tree = g.tree(depth: 0)
            let written = compactBytes(tree)
            // Compact output never contains raw newlines (frames are newline-separated).
            #expect(!written.contains(0x0A), "iteration \(iteration)")
            let value: JSONValue
            do {
                value = try JSONParser.parse(written)
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): \(error) in \(text(written))")
                continue
            }
            #expect(same(value, tree, checkRaw: true), "seed \(seed) iteration \(iteration): \(text(written))")
            var w = JSONWriter()
            rewrite(value, &w)
            #expect(w.bytes == written, "seed \(seed) iteration \(iteration)")
            #expect(JSONParser.compact(written) == written, "seed \(seed) iteration \(iteration)")
        }
    }

    @Test("whitespace-padded documents parse the same and compact back", arguments: [7, 1234] as [UInt64])
    func prettyRoundTrip(seed: UInt64) throws {
        var g = Generator(rng: SplitMix(state: seed))
        for iteration in 0..<150 {
            let tree = g.tree(depth: 0)
            let spaced = pretty(tree, &g)
            let value: JSONValue
            do {
                value = try JSONParser.parse(spaced)
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): \(error) in \(text(spaced))")
                continue
            }
            #expect(same(value, tree, checkRaw: false), "seed \(seed) iteration \(iteration)")
            #expect(JSONParser.compact(spaced) == compactBytes(tree), "seed \(seed) iteration \(iteration): \(text(spaced))")
        }
    }

    /// Publication payloads travel as published (Centrifugo keeps them opaque): a pretty-printed
    /// document reaches a JSON subscriber with exactly its bytes minus raw newlines, the frame
    /// stays one line, and it decodes to the same document.
    @Test("payloads keep their bytes in a publication push, minus newlines", arguments: [11, 4242] as [UInt64])
    func payloadsKeepTheirBytes(seed: UInt64) throws {
        var g = Generator(rng: SplitMix(state: seed))
        for iteration in 0..<150 {
            let tree = g.tree(depth: 0)
            let spaced = pretty(tree, &g)
            let frame = JSONReplyEncoder.publicationPush(
                channel: "c", WirePublication(Publication(offset: 2, data: spaced)), dataAsString: false)
            #expect(!frame.contains(0x0A), "seed \(seed) iteration \(iteration)")
            let root: JSONValue
            do {
                root = try JSONParser.parse(frame)
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): \(error) in \(text(frame))")
                continue
            }
            let data = try #require(root["push"]?["pub"]?.member("data"))
            #expect(Array(data.raw) == spaced.filter { $0 != 0x0A }, "seed \(seed) iteration \(iteration)")
            #expect(same(data.value, tree, checkRaw: false), "seed \(seed) iteration \(iteration)")
        }
    }

    @Test func generatorProducesAllShapes() {
        // Guards the property tests against a degenerate generator.
        var g = Generator(rng: SplitMix(state: 0x5EED_0001))
        var kinds = Set<String>()
        for _ in 0..<150 {
            func visit(_ t: Tree) {
                switch t {
                case .null: kinds.insert("null")
                case .bool: kinds.insert("bool")
                case .number(let n): kinds.insert(n.contains(where: { "eE".contains($0) }) ? "exp" : "number")
                case .string(let s): kinds.insert(s.utf8.contains(where: { $0 < 0x20 }) ? "control" : "string")
                case .array(let a): kinds.insert("array"); a.forEach(visit)
                case .object(let m): kinds.insert("object"); m.forEach { visit($0.1) }
                }
            }
            visit(g.tree(depth: 0))
        }
        #expect(kinds == ["null", "bool", "number", "exp", "string", "control", "array", "object"])
    }
}
