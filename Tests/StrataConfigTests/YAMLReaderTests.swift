import Foundation
import Testing

@testable import StrataConfig

/// Strata's YAML conversion over Yams's composer (Yams's own constructor aborted the process on
/// a list or mapping used as a key: docs/reliability.md).
@Suite("YAML reader")
struct YAMLReaderTests {
    func read(_ text: String) throws(ConfigError) -> ConfigValue { try YAMLReader.parse(text) }

    @Test func scalarsKeepTheirTypes() throws {
        let v = try read("""
            a: 1
            b: -2.5
            c: true
            d: ~
            e: text
            f: "10"
            g: 0x1F
            h: 2001-12-14t21:59:43.10-05:00
            i: [1, two, {x: 3}]
            """)
        #expect(v["a"] == .int(1))
        #expect(v["b"] == .double(-2.5))
        #expect(v["c"] == .bool(true))
        #expect(v["d"] == .null)
        #expect(v["e"] == .string("text"))
        #expect(v["f"] == .string("10"))
        #expect(v["g"] == .int(31))
        #expect(v["h"] == .string("2001-12-14t21:59:43.10-05:00"))
        #expect(v["i"] == .array([.int(1), .string("two"), .object(["x": .int(3)])]))
        #expect(try read("") == .object([:]))
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let v = try read("""
            base: &base {history_size: 10, history_ttl: 300s}
            chat:
              <<: *base
              history_size: 20
            both:
              <<: [*base, {presence: true}]
            copy: *base
            """)
        #expect(v["chat"] == .object(["history_size": .int(20), "history_ttl": .string("300s")]))
        #expect(v["both"] == .object(["history_size": .int(10), "history_ttl": .string("300s"), "presence": .bool(true)]))
        #expect(v["copy"] == v["base"])
    }

    /// These aborted the process inside Yams (a force unwrap of the key as a string).
    @Test(arguments: ["? [a]\n: 1\n", "[a]: 1\n", "x:\n  {a: 1}: 2\n", "x: !!set {? [a]}\n"])
    func nonScalarKeysAreAnError(text: String) {
        #expect(throws: ConfigError.self) { try read(text) }
    }

    /// Refused before Yams composes the document: its duplicate-key check sorted nested complex
    /// keys in exponential time, so this 2 KB finding of the config fuzz harness ran for longer
    /// than its 20-minute timeout. The file is the harness's input: a format byte, then the text.
    @Test func nestedComplexKeysAreRefusedBeforeComposing() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fuzz/findings/config-timeout-nested-complex-keys.bin")
        let bytes = try Data(contentsOf: file)
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        do {
            _ = try read(text)
            Issue.record("nested complex keys were accepted")
        } catch {
            #expect(error.message.contains("line 2: a mapping key must be a plain value, not a list"), "\(error.message)")
        }
    }

    /// A key that is an alias is fine when it names a plain value, refused when it names a list
    /// or a mapping; an explicit (`? `) plain key is an ordinary key.
    @Test func aliasAndExplicitKeys() throws {
        let v = try read("name: &k port\n*k : 8000\n? explicit\n: 1\n")
        #expect(v["port"] == .int(8000))
        #expect(v["explicit"] == .int(1))
        for (text, what) in [("a: &a [1]\n? *a\n: 2\n", "an alias of a list or a mapping (*a)"),
                             ("a: &a {b: 1}\nc:\n  *a : 2\n", "an alias of a list or a mapping (*a)"),
                             ("x:\n  - y:\n      ? {a: 1}\n      : 2\n", "a mapping")] {
            do {
                _ = try read(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.message.hasSuffix("a mapping key must be a plain value, not \(what)"), "\(error.message)")
            }
        }
    }

    /// YAML 1.1 integers in every form; one past 64 bits is not an integer (Yams's own
    /// conversion trapped on a sexagesimal one: found by the config fuzz harness).
    @Test func integersInEveryFormAndPast64Bits() throws {
        let v = try read("a: 1_000\nb: 0x1F\nc: 0b101\nd: 017\ne: 0o17\nf: 1:30\ng: -2:00\nh: +5\n")
        #expect([v["a"], v["b"], v["c"], v["d"], v["e"], v["f"], v["g"], v["h"]] == [.int(1000), .int(31), .int(5), .int(15), .int(15), .int(90), .int(-120), .int(5)])
        let big = try read("x: 22222222222222222222:22\ny: 99999999999999999999\n")
        #expect(big["x"].map { if case .int = $0 { false } else { true } } == true)
        #expect(big["y"].map { if case .int = $0 { false } else { true } } == true)
        #expect(YAMLReader.integer("1:-30") == nil && YAMLReader.integer("0x-1") == nil)
    }

    /// Nine levels of ten aliases each would be a billion values.
    @Test func aliasBombsAreRefused() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(refs)]")
        }
        do {
            _ = try read(lines.joined(separator: "\n"))
            Issue.record("an alias bomb was expanded")
        } catch {
            #expect(error.message.contains("more than 1000000 values"))
        }
    }

    @Test func syntaxErrorsAndDuplicatesAreErrors() {
        for text in ["a: [1, 2", "a: 1\na: 2", "a: *nowhere", ": :\n- -", String(repeating: "[", count: 5000)] {
            #expect(throws: ConfigError.self) { try read(text) }
        }
    }
}
