import Testing

@testable import StrataConfig

/// Strata's TOML reader (it replaced TOMLKit, whose toml++ aborted the process on malformed
/// documents: docs/reliability.md). Valid TOML 1.0 reads to the values the spec gives; invalid
/// TOML is an error naming its line; nothing aborts.
@Suite("TOML reader")
struct TOMLReaderTests {
    func read(_ text: String) throws(ConfigError) -> ConfigValue { try TOMLReader.parse(text) }

    @Test func keysTablesAndArraysOfTables() throws {
        let v = try read("""
            # a comment
            title = "x" # after a value
            "quoted key" = 1
            'literal key' = 2
            dotted . inner = true
            [a.b]
            c = 3
            [a]
            d = 4
            [[list]]
            n = 1
            [list.sub]
            m = 2
            [[list]]
            n = 2
            [a.b.deeper]
            e = 5
            """)
        #expect(v["title"] == .string("x"))
        #expect(v["quoted key"] == .int(1))
        #expect(v["literal key"] == .int(2))
        #expect(v["dotted"]?["inner"] == .bool(true))
        #expect(v["a"]?["b"]?["c"] == .int(3))
        #expect(v["a"]?["d"] == .int(4))
        #expect(v["a"]?["b"]?["deeper"]?["e"] == .int(5))
        #expect(v["list"] == .array([.object(["n": .int(1), "sub": .object(["m": .int(2)])]), .object(["n": .int(2)])]))
    }

    @Test func numbers() throws {
        let v = try read("""
            a = +99
            b = -17
            c = 0
            d = 1_000
            e = 0xDEAD_beef
            f = 0o755
            g = 0b1101
            h = 9223372036854775807
            i = -9223372036854775808
            j = 3.1415
            k = -0.01
            l = 5e+22
            m = 6.626e-34
            n = 224_617.445_991_228
            o = inf
            p = -inf
            q = nan
            """)
        #expect(v["a"] == .int(99))
        #expect(v["b"] == .int(-17))
        #expect(v["c"] == .int(0))
        #expect(v["d"] == .int(1000))
        #expect(v["e"] == .int(0xDEADBEEF))
        #expect(v["f"] == .int(0o755))
        #expect(v["g"] == .int(13))
        #expect(v["h"] == .int(Int64.max))
        #expect(v["i"] == .int(Int64.min))
        #expect(v["j"] == .double(3.1415))
        #expect(v["k"] == .double(-0.01))
        #expect(v["l"] == .double(5e22))
        #expect(v["m"] == .double(6.626e-34))
        #expect(v["n"] == .double(224617.445991228))
        #expect(v["o"] == .double(.infinity))
        #expect(v["p"] == .double(-.infinity))
        if case .double(let nan)? = v["q"] { #expect(nan.isNaN) } else { Issue.record("nan is not a double") }
    }

    @Test func strings() throws {
        let v = try read(#"""
            a = "tab\there \"q\" \\ \u00E9 \U0001F600"
            b = 'C:\Users\no escapes'
            c = """
            Roses are red
            Violets are blue"""
            d = """\
                The quick \
                brown fox."""
            e = '''
            raw \n here
            '''
            f = """Here are two quotation marks: "". Simple enough."""
            g = """""five quotes"""""
            h = ''''one quote''''
            """#)
        #expect(v["a"] == .string("tab\there \"q\" \\ é 😀"))
        #expect(v["b"] == .string(#"C:\Users\no escapes"#))
        #expect(v["c"] == .string("Roses are red\nViolets are blue"))
        #expect(v["d"] == .string("The quick brown fox."))
        #expect(v["e"] == .string("raw \\n here\n"))
        #expect(v["f"] == .string("Here are two quotation marks: \"\". Simple enough."))
        #expect(v["g"] == .string("\"\"five quotes\"\""))
        #expect(v["h"] == .string("'one quote'"))
    }

    @Test func arraysInlineTablesAndDates() throws {
        let v = try read("""
            xs = [ 1, 2, 3, ]
            nested = [ [ 1, 2 ], ["a", 'b'], [ { x = 1 } ] ]
            multi = [
              "a", # comment
              # another
              "b"
            ]
            point = { x = 1, y.z = 2 }
            empty = {}
            odt = 1979-05-27T07:32:00Z
            odt2 = 1979-05-27 07:32:00.999999-07:00
            ld = 1979-05-27
            lt = 00:32:00.5
            """)
        #expect(v["xs"] == .array([.int(1), .int(2), .int(3)]))
        #expect(v["nested"] == .array([.array([.int(1), .int(2)]), .array([.string("a"), .string("b")]), .array([.object(["x": .int(1)])])]))
        #expect(v["multi"] == .array([.string("a"), .string("b")]))
        #expect(v["point"] == .object(["x": .int(1), "y": .object(["z": .int(2)])]))
        #expect(v["empty"] == .object([:]))
        #expect(v["odt"] == .string("1979-05-27T07:32:00Z"))
        #expect(v["odt2"] == .string("1979-05-27 07:32:00.999999-07:00"))
        #expect(v["ld"] == .string("1979-05-27"))
        #expect(v["lt"] == .string("00:32:00.5"))
    }

    /// Each of these is invalid TOML; the first ones aborted the process inside toml++ (found by
    /// the config fuzz harness). Every one is an error that names its line.
    @Test(arguments: [
        ("[\n", 1), ("a = 1\n[=]\n", 2), ("[$a]", 1), ("[é]", 1), ("[ \t{]", 1), ("[[[a]]]", 1), ("[[\n", 1),
        ("when = 1979-05-27t:", 1), ("x = 1\ny = 1979-05-27T", 2),
        ("a = 1\na = 2", 2), ("[t]\n[t]", 2), ("a.b = 1\n[a]", 2), ("[a]\nb = 1\n[a.b]", 3),
        ("x = {a = 1}\n[x.b]", 2), ("[[t]]\n[t]", 2), ("t = [1]\n[[t]]", 2),
        ("a = 07", 1), ("a = 1__0", 1), ("a = 0x", 1), ("a = 1.", 1), ("a = .5", 1), ("a = 1e", 1), ("a = 0xFFFFFFFFFFFFFFFF", 1),
        ("a = 9223372036854775808", 1), ("a = +0x1", 1), ("a = \"open", 1), ("a = \"\"\"open", 1), ("a = \"\\q\"", 1),
        ("a = \"\\uD800\"", 1), ("a = \"\\u+123\"", 1), ("a = [1 2]", 1), ("a = {b = 1", 1), ("a = {b = 1,\nc = 2}", 1),
        ("a = 1 b = 2", 1), ("= 1", 1), ("a", 1), ("a =", 1), ("\"\"\"k\"\"\" = 1", 1), ("a = \"x\u{1}\"", 1),
        ("a = 1\r", 1), ("a = truee", 1), ("# a \u{1} in a comment", 1), ("a = 1 # \u{7F}", 1),
    ])
    func invalidTomlIsAnErrorWithItsLine(text: String, line: Int) {
        do {
            _ = try read(text)
            Issue.record("accepted: \(text.debugDescription)")
        } catch {
            #expect(error.message.hasPrefix("cannot parse toml: line \(line): "), "\(text.debugDescription): \(error.message)")
        }
    }

    /// However deep a document nests, the reader stops with an error, not a stack overflow.
    @Test func deepNestingIsRefused() {
        let deepArray = "a = " + String(repeating: "[", count: 100_000)
        let deepInline = "a = " + String(repeating: "{b = ", count: 100_000)
        let longHeader = "[" + Array(repeating: "k", count: 100_000).joined(separator: ".") + "]"
        for text in [deepArray, deepInline, longHeader] {
            #expect(throws: ConfigError.self) { try read(text) }
        }
        let fine = "a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? read(fine)) != nil)
    }
}

extension ConfigValue {
    /// A member of an object (tests only).
    subscript(key: String) -> ConfigValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }
}
