/// Reads a TOML 1.0 document into a `ConfigValue` tree, in Swift.
///
/// Why not TOMLKit (toml++ underneath): the config fuzz harness found that toml++ aborts the
/// process on malformed documents through assertions in its parser (`[=]`, `[é]`, a date
/// followed by `t:`; release builds too), and that TOMLKit never frees what its C++ side hands
/// out. A config file is written by hand, so a typo must be an error that names its line, never
/// a crash (docs/reliability.md, "Fuzzing").
///
/// Everything TOML 1.0 has is read: bare, quoted and dotted keys, the four kinds of string with
/// their escapes, integers in four bases, floats with `inf` and `nan`, booleans, arrays over
/// several lines, inline tables, tables and arrays of tables, with TOML's rules against defining
/// a key or table twice. Dates and times are checked for their shape and kept as their text
/// (no Strata setting is a date). Nesting is capped at `maxDepth`, so no document can exhaust the
/// stack.
struct TOMLReader {
    static let maxDepth = 128

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func parse(_ text: String) throws(ConfigError) -> ConfigValue {
        var reader = TOMLReader(text)
        let root = Table()
        try reader.document(root)
        return root.value
    }

    // MARK: - The tree being built

    /// A table as the document defines it: how it came to exist decides what may still be said of it.
    private final class Table {
        enum Origin {
            /// Made on the way to a deeper header (`[a.b]` makes `a`): a header may still define it.
            case implicit
            /// Defined by a `[header]` or an `[[array]]` entry.
            case header
            /// Made by a dotted key (`a.b = 1` makes `a`): no header may define it afterwards.
            case dottedKey
            /// An inline table (`{ … }`): closed once written.
            case inline
        }

        var entries: [String: Node] = [:]
        var origin: Origin

        init(_ origin: Origin = .implicit) {
            self.origin = origin
        }

        var value: ConfigValue {
            .object(entries.mapValues { node in
                switch node {
                case .value(let v): v
                case .table(let t): t.value
                case .tables(let ts): .array(ts.map(\.value))
                }
            })
        }
    }

    private enum Node {
        case value(ConfigValue)
        case table(Table)
        /// An array of tables (`[[name]]`).
        case tables([Table])
    }

    // MARK: - Document structure

    private mutating func document(_ root: Table) throws(ConfigError) {
        var current = root
        while true {
            try skipBlankAndComments()
            guard let c = peek() else { return }
            if c == UInt8(ascii: "[") {
                current = try header(root)
            } else {
                try keyValue(into: current, depth: 0)
            }
            try endOfLine()
        }
    }

    /// `[a.b]` or `[[a.b]]`: the table later key/value lines go into.
    private mutating func header(_ root: Table) throws(ConfigError) -> Table {
        i += 1
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { i += 1 }
        skipSpaces()
        let path = try key()
        skipSpaces()
        guard take("]") else { throw error("a table header must end with ]") }
        if isArray, !take("]") { throw error("an array of tables header must end with ]]") }

        var table = root
        for name in path.dropLast() {
            table = try descend(table, name, creating: .implicit, forHeader: true)
        }
        let name = path[path.count - 1]
        if isArray {
            let entry = Table(.header)
            switch table.entries[name] {
            case nil: table.entries[name] = .tables([entry])
            case .tables(var list)?:
                list.append(entry)
                table.entries[name] = .tables(list)
            default: throw error("\(name) is already defined and is not an array of tables")
            }
            return entry
        }
        switch table.entries[name] {
        case nil:
            let entry = Table(.header)
            table.entries[name] = .table(entry)
            return entry
        case .table(let existing)? where existing.origin == .implicit:
            existing.origin = .header
            return existing
        default:
            throw error("table \(path.joined(separator: ".")) is defined twice")
        }
    }

    /// The table `name` inside `table`, made when missing. Through an array of tables, its last
    /// entry (TOML's rule for `[a.b]` after `[[a]]`).
    private mutating func descend(_ table: Table, _ name: String, creating origin: Table.Origin, forHeader: Bool) throws(ConfigError) -> Table {
        switch table.entries[name] {
        case nil:
            let made = Table(origin)
            table.entries[name] = .table(made)
            return made
        case .table(let t)?:
            if t.origin == .inline { throw error("\(name) is an inline table, which cannot be extended") }
            // A dotted key may extend only the tables dotted keys made in this same table.
            if !forHeader, t.origin == .header || t.origin == .implicit { throw error("\(name) is already defined as a table") }
            return t
        case .tables(let list)?:
            guard forHeader, let last = list.last else { throw error("\(name) is already defined as an array of tables") }
            return last
        case .value?:
            throw error("\(name) is already defined as a value")
        }
    }

    /// `key = value`, the key possibly dotted.
    private mutating func keyValue(into table: Table, depth: Int) throws(ConfigError) {
        let path = try key()
        skipSpaces()
        guard take("=") else { throw error("expected = after the key") }
        skipSpaces()
        let v = try value(depth: depth)
        var target = table
        for name in path.dropLast() {
            target = try descend(target, name, creating: .dottedKey, forHeader: false)
        }
        let name = path[path.count - 1]
        guard target.entries[name] == nil else { throw error("\(path.joined(separator: ".")) is defined twice") }
        target.entries[name] = v
    }

    /// Only spaces and a comment may follow a key/value pair or a header on its line.
    private mutating func endOfLine() throws(ConfigError) {
        skipSpaces()
        try skipComment()
        guard let c = peek() else { return }
        if c == UInt8(ascii: "\n") {
            newline()
        } else if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
            i += 1
            newline()
        } else {
            throw error("expected the end of the line, found \(describe(c))")
        }
    }

    // MARK: - Keys

    private mutating func key() throws(ConfigError) -> [String] {
        var path: [String] = []
        repeat {
            skipSpaces()
            path.append(try simpleKey())
            skipSpaces()
            if path.count > Self.maxDepth { throw error("a key of more than \(Self.maxDepth) parts") }
        } while take(".")
        return path
    }

    private mutating func simpleKey() throws(ConfigError) -> String {
        guard let c = peek() else { throw error("expected a key") }
        if c == UInt8(ascii: "\"") {
            if starts("\"\"\"") { throw error("a key cannot be a multi-line string") }
            return try basicString()
        }
        if c == UInt8(ascii: "'") {
            if starts("'''") { throw error("a key cannot be a multi-line string") }
            return try literalString()
        }
        let start = i
        while let b = peek(), Self.isBareKey(b) { i += 1 }
        guard i > start else { throw error("expected a key (letters, digits, _ or -, or a quoted key), found \(describe(c))") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static func isBareKey(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(ConfigError) -> Node {
        guard depth < Self.maxDepth else { throw error("values nested deeper than \(Self.maxDepth)") }
        guard let c = peek() else { throw error("expected a value") }
        switch c {
        case UInt8(ascii: "\""):
            return .value(.string(starts("\"\"\"") ? try multiLineBasicString() : try basicString()))
        case UInt8(ascii: "'"):
            return .value(.string(starts("'''") ? try multiLineLiteralString() : try literalString()))
        case UInt8(ascii: "["):
            return .value(try array(depth: depth))
        case UInt8(ascii: "{"):
            return .table(try inlineTable(depth: depth))
        default:
            return .value(try scalar())
        }
    }

    private mutating func array(depth: Int) throws(ConfigError) -> ConfigValue {
        i += 1
        var items: [ConfigValue] = []
        while true {
            try skipWhitespaceNewlinesAndComments()
            if take("]") { return .array(items) }
            switch try value(depth: depth + 1) {
            case .value(let v): items.append(v)
            case .table(let t): items.append(t.value)
            case .tables: throw error("unexpected array of tables")
            }
            try skipWhitespaceNewlinesAndComments()
            if take("]") { return .array(items) }
            guard take(",") else { throw error("expected , or ] in an array") }
        }
    }

    private mutating func inlineTable(depth: Int) throws(ConfigError) -> Table {
        i += 1
        let table = Table(.dottedKey)
        skipSpaces()
        if take("}") {
            table.origin = .inline
            return table
        }
        while true {
            skipSpaces()
            try keyValue(into: table, depth: depth + 1)
            skipSpaces()
            if take("}") { break }
            guard take(",") else { throw error("expected , or } in an inline table (which must stay on one line)") }
        }
        // Closed: neither a header nor a dotted key may add to it afterwards.
        close(table)
        return table
    }

    private func close(_ table: Table) {
        table.origin = .inline
        for case .table(let inner) in table.entries.values { close(inner) }
    }

    /// A boolean, number, or date and time: a run of the characters they are made of.
    private mutating func scalar() throws(ConfigError) -> ConfigValue {
        let start = i
        while let b = peek(), Self.isScalar(b) { i += 1 }
        // A date and a time may be separated by one space (`1979-05-27 07:32:00`).
        if peek() == UInt8(ascii: " "), i - start == 10, bytes[start + 4] == UInt8(ascii: "-"),
            let h = peek(1), Self.isDigit(h), let h2 = peek(2), Self.isDigit(h2), peek(3) == UInt8(ascii: ":")
        {
            i += 1
            while let b = peek(), Self.isScalar(b) { i += 1 }
        }
        let token = Array(bytes[start..<i])
        guard !token.isEmpty else { throw error("expected a value, found \(peek().map(describe) ?? "the end")") }
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .double(.infinity)
        case "-inf": return .double(-.infinity)
        case "nan", "+nan", "-nan": return .double(.nan)
        default: break
        }
        if Self.isDateTime(token) { return .string(text) }
        if let integer = try integer(token) { return .int(integer) }
        if let float = float(token) { return .double(float) }
        throw error("\(text) is not a TOML value")
    }

    private static func isScalar(_ b: UInt8) -> Bool {
        isBareKey(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// Digits with single underscores between them (TOML's rule for every number part).
    private static func digits(_ part: ArraySlice<UInt8>, _ isDigit: (UInt8) -> Bool) -> [UInt8]? {
        guard let first = part.first, let last = part.last, isDigit(first), isDigit(last) else { return nil }
        var out: [UInt8] = []
        var previousUnderscore = false
        for b in part {
            if b == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
            } else {
                guard isDigit(b) else { return nil }
                out.append(b)
                previousUnderscore = false
            }
        }
        return out
    }

    /// An integer in any of TOML's forms, nil when the token is not one; an error when it is
    /// one but does not fit in 64 bits.
    private func integer(_ token: [UInt8]) throws(ConfigError) -> Int64? {
        var body = token[...]
        var radix = 10
        if body.count > 2, body.first == UInt8(ascii: "0") {
            switch body[body.startIndex + 1] {
            case UInt8(ascii: "x"): radix = 16
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "b"): radix = 2
            default: break
            }
            if radix != 10 { body = body.dropFirst(2) }
        }
        var negative = false
        if radix == 10, let sign = body.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        let isDigit: (UInt8) -> Bool = { b in
            switch radix {
            case 16: Self.isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
            case 8: b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7")
            case 2: b == UInt8(ascii: "0") || b == UInt8(ascii: "1")
            default: Self.isDigit(b)
            }
        }
        guard let plain = Self.digits(body, isDigit) else { return nil }
        // No leading zeros in decimal (`07` is not TOML).
        if radix == 10, plain.count > 1, plain.first == UInt8(ascii: "0") { return nil }
        let text = (negative ? "-" : "") + String(decoding: plain, as: UTF8.self)
        guard let value = Int64(text, radix: radix) else {
            throw error("\(String(decoding: token, as: UTF8.self)) does not fit in a 64-bit integer")
        }
        return value
    }

    /// A float (`1.5`, `-2e10`, `6.626e-34`, with underscores between digits), nil otherwise.
    private func float(_ token: [UInt8]) -> Double? {
        var body = token[...]
        var sign = ""
        if let s = body.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
            sign = s == UInt8(ascii: "-") ? "-" : ""
            body = body.dropFirst()
        }
        var mantissa = body
        var exponent: ArraySlice<UInt8>? = nil
        if let e = body.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = body[..<e]
            exponent = body[(e + 1)...]
        }
        var integerPart = mantissa
        var fraction: ArraySlice<UInt8>? = nil
        if let dot = mantissa.firstIndex(of: UInt8(ascii: ".")) {
            integerPart = mantissa[..<dot]
            fraction = mantissa[(dot + 1)...]
        }
        guard fraction != nil || exponent != nil else { return nil }
        guard let whole = Self.digits(integerPart, Self.isDigit), !(whole.count > 1 && whole.first == UInt8(ascii: "0")) else { return nil }
        var text = sign + String(decoding: whole, as: UTF8.self)
        if let fraction {
            guard let digits = Self.digits(fraction, Self.isDigit) else { return nil }
            text += "." + String(decoding: digits, as: UTF8.self)
        }
        if var exponent {
            var expSign = ""
            if let s = exponent.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                expSign = s == UInt8(ascii: "-") ? "-" : "+"
                exponent = exponent.dropFirst()
            }
            guard let digits = Self.digits(exponent, Self.isDigit) else { return nil }
            text += "e" + expSign + String(decoding: digits, as: UTF8.self)
        }
        return Double(text)
    }

    /// A date (`1979-05-27`), a time (`07:32:00`, fractions allowed), or both with `T`, `t` or a
    /// space between, optionally with `Z` or an offset: TOML's four date-time kinds.
    private static func isDateTime(_ token: [UInt8]) -> Bool {
        var rest = token[...]
        func number(_ count: Int, max: Int) -> Bool {
            guard rest.count >= count, rest.prefix(count).allSatisfy(isDigit) else { return false }
            let value = rest.prefix(count).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            rest = rest.dropFirst(count)
            return value <= max
        }
        func take(_ c: Character) -> Bool {
            guard rest.first == c.asciiValue else { return false }
            rest = rest.dropFirst()
            return true
        }
        func time() -> Bool {
            guard number(2, max: 23), take(":"), number(2, max: 59), take(":"), number(2, max: 60) else { return false }
            if take(".") {
                let fraction = rest.prefix(while: isDigit)
                guard !fraction.isEmpty else { return false }
                rest = rest.dropFirst(fraction.count)
            }
            return true
        }
        if token.count >= 3, token[2] == UInt8(ascii: ":") { return time() && rest.isEmpty }
        guard number(4, max: 9999), take("-"), number(2, max: 12), take("-"), number(2, max: 31) else { return false }
        if rest.isEmpty { return true }
        guard take("T") || take("t") || take(" "), time() else { return false }
        if rest.isEmpty || take("Z") || take("z") { return rest.isEmpty }
        guard take("+") || take("-"), number(2, max: 23), take(":"), number(2, max: 59) else { return false }
        return rest.isEmpty
    }

    // MARK: - Strings

    private mutating func basicString() throws(ConfigError) -> String { try singleLineString(UInt8(ascii: "\"")) }

    private mutating func literalString() throws(ConfigError) -> String { try singleLineString(UInt8(ascii: "'")) }

    /// A string on one line between `quote`s: escapes in a basic string (`"`), none in a literal one (`'`).
    private mutating func singleLineString(_ quote: UInt8) throws(ConfigError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if c == quote {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") {
                try escape(into: &out)
            } else if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                let q = Character(Unicode.Scalar(quote))
                throw error("a string in \(q) must end on its line (use \(q)\(q)\(q) for several lines)")
            } else {
                try stringByte(c, into: &out)
            }
        }
    }

    private mutating func multiLineBasicString() throws(ConfigError) -> String {
        i += 3
        trimFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if endsMultiLine(UInt8(ascii: "\""), into: &out) { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                // A backslash that ends a line drops the newline and the blanks after it.
                var j = i + 1
                while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "\n") || (bytes[j] == UInt8(ascii: "\r") && j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: "\n")) {
                    i = j
                    while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                        if b == UInt8(ascii: "\n") { line += 1 }
                        i += 1
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            try multiLineByte(c, into: &out)
        }
    }

    private mutating func multiLineLiteralString() throws(ConfigError) -> String {
        i += 3
        trimFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if endsMultiLine(UInt8(ascii: "'"), into: &out) { return String(decoding: out, as: UTF8.self) }
            try multiLineByte(c, into: &out)
        }
    }

    /// Whether three `quote`s end a multi-line string here (consumed). Up to two more quotes
    /// just before the closing three belong to the string (`"""""x"""""` is `""x""`).
    private mutating func endsMultiLine(_ quote: UInt8, into out: inout [UInt8]) -> Bool {
        guard peek() == quote, peek(1) == quote, peek(2) == quote else { return false }
        var quotes = 3
        while quotes < 5, peek(quotes) == quote { quotes += 1 }
        out.append(contentsOf: repeatElement(quote, count: quotes - 3))
        i += quotes
        return true
    }

    /// A newline right after the opening delimiter is not part of a multi-line string.
    private mutating func trimFirstNewline() {
        if peek() == UInt8(ascii: "\n") {
            i += 1
            line += 1
        } else if peek() == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
            i += 2
            line += 1
        }
    }

    /// One byte of a single-line string: control characters other than tab are not allowed.
    private mutating func stringByte(_ c: UInt8, into out: inout [UInt8]) throws(ConfigError) {
        guard c >= 0x20 || c == UInt8(ascii: "\t"), c != 0x7F else { throw error("a control character in a string (write it as an escape)") }
        out.append(c)
        i += 1
    }

    private mutating func multiLineByte(_ c: UInt8, into out: inout [UInt8]) throws(ConfigError) {
        if c == UInt8(ascii: "\n") {
            line += 1
            out.append(c)
            i += 1
        } else if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
            out.append(c)
            i += 1
        } else {
            try stringByte(c, into: &out)
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(ConfigError) {
        guard let e = peek(1) else { throw error("unterminated string") }
        i += 2
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard i + count <= bytes.count, let code = UInt32(String(decoding: bytes[i..<i + count], as: UTF8.self), radix: 16),
                bytes[i..<i + count].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }),
                let scalar = Unicode.Scalar(code)
            else { throw error("\\\(Character(Unicode.Scalar(e))) must be followed by \(count) hex digits of a Unicode scalar") }
            i += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("unknown escape \\\(describe(e))")
        }
    }

    // MARK: - Whitespace, comments, errors

    private func peek(_ ahead: Int = 0) -> UInt8? { i + ahead < bytes.count ? bytes[i + ahead] : nil }

    private func starts(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { l in i + l.count <= bytes.count && bytes[i..<i + l.count].elementsEqual(l) }
    }

    private mutating func take(_ c: Character) -> Bool {
        guard let ascii = c.asciiValue, peek() == ascii else { return false }
        i += 1
        return true
    }

    private mutating func newline() {
        i += 1
        line += 1
    }

    private mutating func skipSpaces() {
        while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { i += 1 }
    }

    /// A comment runs to the end of the line; like strings, it may hold no control character
    /// but a tab (a carriage return only before its line feed).
    private mutating func skipComment() throws(ConfigError) {
        guard peek() == UInt8(ascii: "#") else { return }
        while let b = peek(), b != UInt8(ascii: "\n") {
            let crlf = b == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n")
            if (b < 0x20 && b != UInt8(ascii: "\t") && !crlf) || b == 0x7F { throw error("a control character in a comment") }
            i += 1
        }
    }

    /// Blank lines and comment lines between statements.
    private mutating func skipBlankAndComments() throws(ConfigError) {
        while true {
            skipSpaces()
            try skipComment()
            if peek() == UInt8(ascii: "\n") {
                newline()
            } else if peek() == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
                i += 1
                newline()
            } else {
                return
            }
        }
    }

    /// Inside an array, values may be spread over lines with comments between them.
    private mutating func skipWhitespaceNewlinesAndComments() throws(ConfigError) {
        try skipBlankAndComments()
        if peek() == UInt8(ascii: "\r") { throw error("a carriage return without a line feed") }
    }

    private func describe(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
    }

    private func error(_ message: String) -> ConfigError {
        ConfigError(path: "", message: "cannot parse toml: line \(line): \(message)")
    }
}
