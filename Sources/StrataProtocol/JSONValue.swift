/// A parsed JSON document that remembers the exact bytes of every object member's value, so
/// payloads (`data`, `info`) can be stored and re-sent verbatim, as Centrifugo does.
package indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written (validated against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
}

/// One `"key": value` pair, with the value's raw bytes as they appeared in the input.
package struct JSONMember: Hashable, Sendable {
    package let key: String
    package let value: JSONValue
    package let raw: ArraySlice<UInt8>
}

extension JSONValue {
    /// The value of `key` in an object (the last one wins on duplicates, as in Go).
    package subscript(key: String) -> JSONValue? {
        member(key)?.value
    }

    package func member(_ key: String) -> JSONMember? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }
    }

    package var isNull: Bool { if case .null = self { return true } else { return false } }
}
