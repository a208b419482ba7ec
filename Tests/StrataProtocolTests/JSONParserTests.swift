import Testing
import StrataProtocol

@Suite("JSONParser: accepting valid documents")
struct JSONParserAcceptTests {
    @Test("scalars parse to the right case", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .number("0")),
        ("-0", .number("-0")),
        ("42", .number("42")),
        ("-17", .number("-17")),
        ("3.25", .number("3.25")),
        ("1.50e3", .number("1.50e3")),
        ("-1.5E+3", .number("-1.5E+3")),
        ("2e-10", .number("2e-10")),
        ("0.0", .number("0.0")),
        ("\"\"", .string("")),
        ("\"hi\"", .string("hi")),
        ("\"héllo 世界 😀\"", .string("héllo 世界 😀")),
        ("  \t\r\n 7 \n", .number("7")),
    ] as [(String, JSONValue)])
    func scalars(_ input: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(input) == expected)
    }

    @Test func nestedDocumentStructure() throws {
        let v = try parsed(#"{"a":1,"b":[true,false,null],"c":{"d":"e","f":[]},"g":-1.5e+3,"h":{}}"#)
        #expect(v["a"] == .number("1"))
        #expect(v["b"] == .array([.bool(true), .bool(false), .null]))
        #expect(v["c"]?["d"] == .string("e"))
        #expect(v["c"]?["f"] == .array([]))
        #expect(v["g"] == .number("-1.5e+3"))
        #expect(v["h"] == .object([]))
        #expect(v["missing"] == nil)
        guard case .object(let members) = v else { Issue.record("expected object"); return }
        #expect(members.map(\.key) == ["a", "b", "c", "g", "h"])
    }

    @Test func duplicateKeysLastOneWins() throws {
        let v = try parsed(#"{"k":1,"k":2}"#)
        #expect(v["k"] == .number("2"))
        guard case .object(let members) = v else { Issue.record("expected object"); return }
        #expect(members.count == 2)
    }

    @Test func whitespaceEverywhereBetweenTokens() throws {
        let v = try parsed(" { \"a\" : [ 1 , 2 ] , \"b\"\t:\r\n{ } } ")
        #expect(v["a"] == .array([.number("1"), .number("2")]))
        #expect(v["b"] == .object([]))
    }

    @Test func isValidMatchesParse() {
        #expect(JSONParser.isValid(bytes(#"{"x":[1,2,{"y":null}]}"#)))
        #expect(!JSONParser.isValid(bytes(#"{"x":[1,2,{"y":null}]"#)))
        #expect(!JSONParser.isValid([]))
    }

    @Test func parsesOnlyTheGivenRange() throws {
        let input = bytes(#"xx{"a":1}yy"#)
        let v = try JSONParser.parse(input, range: 2..<9)
        #expect(v["a"] == .number("1"))
        // The raw slice still indexes into the whole buffer.
        let raw = try #require(v.member("a")?.raw)
        #expect(raw.startIndex == 7)
        #expect(Array(raw) == bytes("1"))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input, range: 2..<10) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input, range: 0..<9) }
    }
}

@Suite("JSONParser: rejecting invalid documents")
struct JSONParserRejectTests {
    @Test("syntax errors", arguments: [
        "", "   ", "{", "[", "}", "]", "[1,]", #"{"a":1,}"#, "{a:1}", "{'a':1}", "'a'", #"{"a"}"#, #"{"a":}"#,
        "[1 2]", #"{"a":1 "b":2}"#, "tru", "nul", "fals", "truex", "True", "NULL", "NaN", "Infinity", "-Infinity",
        "+1", ".5", "1.", "1.e5", "1e", "1e+", "-", "-a", "0x10", "1_000", "[,1]", #"{,"a":1}"#, "[1,,2]",
    ])
    func syntaxErrors(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test("trailing garbage after a complete value", arguments: [
        "{} x", "[1] [2]", "1 2", "true false", #""a" "b""#, "{}}", "[]]", "null,", "0 0",
    ])
    func trailingGarbage(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test func trailingGarbageReportsItsOffset() {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("{}  x") }
        #expect(error?.offset == 4)
        #expect(error?.description.contains("byte 4") == true)
    }

    @Test("leading zeros", arguments: ["01", "-01", "00", "[01]", #"{"a":01}"#, "007", "-00.5", "01.5"])
    func leadingZeros(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test("unterminated strings", arguments: [#"""#, #""abc"#, #""abc\""#, #""abc\"#, #"{"a":"b}"#, #"["x]"#, #"{"key"#])
    func unterminatedStrings(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test("raw control characters inside strings", arguments: Array(UInt8(0)..<UInt8(0x20)))
    func controlCharacters(_ c: UInt8) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x61, c, 0x62, 0x22]) }
        // Also on the escape path (a string that has an escape elsewhere).
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, c, 0x22]) }
        // And as an object key.
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x7B, 0x22, c, 0x22, 0x3A, 0x31, 0x7D]) }
    }

    @Test("invalid UTF-8 inside strings", arguments: [
        [0xFF],  // never valid
        [0xC3],  // truncated 2-byte sequence
        [0xE4, 0xB8],  // truncated 3-byte sequence
        [0xC0, 0xAF],  // overlong "/"
        [0xED, 0xA0, 0x80],  // UTF-8-encoded surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0x80],  // lone continuation byte
    ] as [[UInt8]])
    func invalidUTF8(_ bad: [UInt8]) {
        let plain: [UInt8] = [0x22, 0x61] + bad + [0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(plain) }
        // The unescaping path must validate too.
        let escaped: [UInt8] = [0x22, 0x5C, 0x74] + bad + [0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(escaped) }
        let asKey: [UInt8] = [0x7B, 0x22] + bad + [0x22, 0x3A, 0x31, 0x7D]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(asKey) }
    }

    @Test("bad escapes", arguments: [
        #""\x""#, #""\a""#, #""\'""#, #""\U0041""#, #""\u12""#, #""\u12G4""#, #""\u""#, #""\u00""#, #""\ ""#, #""\0""#,
    ])
    func badEscapes(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test func nestingUpToMaxDepthIsAccepted() throws {
        let n = JSONParser.maxDepth
        let arrays = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        #expect(throws: Never.self) { try JSONParser.parse(arrays) }
        let withScalar = String(repeating: "[", count: n - 1) + "1" + String(repeating: "]", count: n - 1)
        #expect(throws: Never.self) { try JSONParser.parse(withScalar) }
        let objects = String(repeating: #"{"a":"#, count: n - 1) + "{}" + String(repeating: "}", count: n - 1)
        #expect(throws: Never.self) { try JSONParser.parse(objects) }
    }

    @Test func nestingDeeperThanMaxDepthIsRejected() {
        let n = JSONParser.maxDepth + 1
        let arrays = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(arrays) }
        let objects = String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(objects) }
    }

    @Test func hostileNestingDoesNotCrash() {
        let open = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(open) }
        #expect(error?.offset == JSONParser.maxDepth)
        let mixed = Array(String(repeating: #"[{"k":"#, count: 200_000).utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(mixed) }
    }
}

@Suite("JSONParser: escapes")
struct JSONParserEscapeTests {
    @Test("simple and \\u escapes", arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041""#, "A"),
        (#""\u00e9\u00E9""#, "éé"),
        (#""\u4e2d\u6587""#, "中文"),
        (#""\u0000""#, "\u{0}"),
        (#""\u001f""#, "\u{1F}"),
        (#""\u2028""#, "\u{2028}"),
        (#""\uffff""#, "\u{FFFF}"),
        (#""a\u0062c""#, "abc"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""x\ud834\udd1ey""#, "x𝄞y"),
        (#""\udbff\udfff""#, "\u{10FFFF}"),
        (#""\ud800\udc00""#, "\u{10000}"),
    ])
    func escapes(_ input: String, _ expected: String) throws {
        #expect(try JSONParser.parse(input) == .string(expected))
    }

    @Test("lone surrogates become U+FFFD", arguments: [
        (#""\ud83d""#, "\u{FFFD}"),
        (#""\ud83dx""#, "\u{FFFD}x"),
        (#""\ude00""#, "\u{FFFD}"),
        (#""\ud83d\u0041""#, "\u{FFFD}A"),
        (#""\ud83d\ud83d\ude00""#, "\u{FFFD}😀"),
        (#""\ude00\ud83d""#, "\u{FFFD}\u{FFFD}"),
    ])
    func loneSurrogates(_ input: String, _ expected: String) throws {
        #expect(try JSONParser.parse(input) == .string(expected))
    }

    @Test func escapedKeysAreUnescaped() throws {
        let v = try parsed(#"{"a\"b":1,"\u00e9":2}"#)
        #expect(v["a\"b"] == .number("1"))
        #expect(v["é"] == .number("2"))
    }
}

@Suite("JSONParser: member raw bytes")
struct JSONParserRawTests {
    @Test func rawIsTheExactInputSliceOfEachValue() throws {
        let input = bytes(#"{ "a" : {"x": [1, 2]} , "b":"s\"q\u00e9" ,"c": 1.50e3,"d" :null, "e":[ ] }"#)
        let v = try JSONParser.parse(input)
        let expected: [(String, String)] = [
            ("a", #"{"x": [1, 2]}"#), ("b", #""s\"q\u00e9""#), ("c", "1.50e3"), ("d", "null"), ("e", "[ ]"),
        ]
        for (key, raw) in expected {
            let m = try #require(v.member(key))
            #expect(text(m.raw) == raw, "member \(key)")
            // It is a slice of the input, not a copy at other indices.
            #expect(Array(input[m.raw.startIndex..<m.raw.endIndex]) == bytes(raw))
        }
    }

    @Test func nestedMembersHaveTheirOwnRawSlices() throws {
        let input = bytes(#"{"outer":{"inner":  "v" ,"n":-0.5}}"#)
        let v = try JSONParser.parse(input)
        let outer = try #require(v.member("outer"))
        #expect(text(outer.raw) == #"{"inner":  "v" ,"n":-0.5}"#)
        #expect(text(try #require(outer.value.member("inner")).raw) == #""v""#)
        #expect(text(try #require(outer.value.member("n")).raw) == "-0.5")
    }

    @Test func rawKeepsNonASCIIBytesVerbatim() throws {
        let v = try parsed(#"{"info":{"name":"Łukasz 🎉","tag":"日本"}}"#)
        #expect(text(try #require(v.member("info")).raw) == #"{"name":"Łukasz 🎉","tag":"日本"}"#)
    }

    @Test func memberLookupReturnsTheLastDuplicate() throws {
        let v = try parsed(#"{"d":[1],"d":{"z":true}}"#)
        #expect(text(try #require(v.member("d")).raw) == #"{"z":true}"#)
    }
}

@Suite("JSONParser.compact")
struct JSONCompactTests {
    @Test("removes whitespace outside strings only", arguments: [
        (" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } }\r\n", #"{"a":[1,2],"b":{}}"#),
        (#"{ "s" : " spaced  out\t" }"#, #"{"s":" spaced  out\t"}"#),
        (#"[ "a \" b" , "c" ]"#, #"["a \" b","c"]"#),
        (#"[ "ends with backslash \\" , "x y" ]"#, #"["ends with backslash \\","x y"]"#),
        (#"[ "\\\"" , " q " ]"#, #"["\\\""," q "]"#),
        (#"{"k": "日本 語" , "e" : "😀 😀"}"#, #"{"k":"日本 語","e":"😀 😀"}"#),
        ("  42  ", "42"),
        (#"{"a":1}"#, #"{"a":1}"#),
    ])
    func compact(_ input: String, _ expected: String) {
        let out = JSONParser.compact(bytes(input))
        #expect(text(out) == expected)
        // Idempotent.
        #expect(JSONParser.compact(out) == out)
    }

    @Test func compactOutputStillParsesToTheSameValue() throws {
        let input = "{ \"a\" : [ 1 , { \"b\" : \" x \\\" y \" } ] , \"c\" : null }"
        let before = try parsed(input)
        let after = try JSONParser.parse(JSONParser.compact(bytes(input)))
        #expect(after["a"] == before["a"])
        #expect(after["c"] == .null)
    }

    @Test func compactAcceptsArraySlices() throws {
        let v = try parsed(#"{"p": { "x" : [ 1, 2 ] }}"#)
        let raw = try #require(v.member("p")).raw
        #expect(text(JSONParser.compact(raw)) == #"{"x":[1,2]}"#)
    }
}
