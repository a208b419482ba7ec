/// A field of a client command had the wrong JSON type or an impossible value.
package struct FieldError: Error, Hashable, Sendable, CustomStringConvertible {
    package let field: String
    package let reason: String
    package var description: String { "\(field): \(reason)" }
}

/// Typed reads of optional fields: absent or null gives the zero value (protobuf semantics), a
/// value of the wrong type is an error (Go's decoder rejects it, and so do we).
extension JSONValue {
    package func string(_ key: String) throws(FieldError) -> String {
        guard let v = self[key], !v.isNull else { return "" }
        guard case .string(let s) = v else { throw FieldError(field: key, reason: "expected string") }
        return s
    }

    package func bool(_ key: String) throws(FieldError) -> Bool {
        guard let v = self[key], !v.isNull else { return false }
        guard case .bool(let b) = v else { throw FieldError(field: key, reason: "expected bool") }
        return b
    }

    /// 64-bit integers may come as numbers or as strings (protobuf's JSON mapping).
    package func int64(_ key: String) throws(FieldError) -> Int64 {
        guard let v = self[key], !v.isNull else { return 0 }
        switch v {
        case .number(let text), .string(let text):
            if let n = Int64(text) { return n }
            // Accept integral floats such as 1e3 or 5.0, as Go accepts into int fields only when integral.
            if let d = Double(text), d.rounded() == d, abs(d) < 9.2e18 { return Int64(d) }
            throw FieldError(field: key, reason: "expected integer")
        default:
            throw FieldError(field: key, reason: "expected integer")
        }
    }

    package func uint64(_ key: String) throws(FieldError) -> UInt64 {
        guard let v = self[key], !v.isNull else { return 0 }
        switch v {
        case .number(let text), .string(let text):
            if let n = UInt64(text) { return n }
            throw FieldError(field: key, reason: "expected unsigned integer")
        default:
            throw FieldError(field: key, reason: "expected unsigned integer")
        }
    }

    package func uint32(_ key: String) throws(FieldError) -> UInt32 {
        let v = try uint64(key)
        guard v <= UInt64(UInt32.max) else { throw FieldError(field: key, reason: "out of range") }
        return UInt32(v)
    }

    package func int32(_ key: String) throws(FieldError) -> Int32 {
        let v = try int64(key)
        guard let n = Int32(exactly: v) else { throw FieldError(field: key, reason: "out of range") }
        return n
    }

    /// An object field; absent or null gives nil.
    package func object(_ key: String) throws(FieldError) -> JSONValue? {
        guard let v = self[key], !v.isNull else { return nil }
        guard case .object = v else { throw FieldError(field: key, reason: "expected object") }
        return v
    }

    /// The bytes of a publication payload exactly as the sender wrote them (whitespace and
    /// newlines included; `null` is a payload too, as in Centrifugo); nil when absent. JSON
    /// frames strip the raw newlines when they carry it (`JSONWriter.payload`).
    package func verbatimJSON(_ key: String) -> [UInt8]? {
        guard let m = member(key) else { return nil }
        return Array(m.raw)
    }

    /// The compact raw bytes of an embedded JSON payload field (`data`, `info`); nil when absent or null.
    package func rawJSON(_ key: String) -> [UInt8]? {
        guard let m = member(key), !m.value.isNull else { return nil }
        return JSONParser.compact(m.raw)
    }

    package func stringMap(_ key: String) throws(FieldError) -> [String: String] {
        guard let v = self[key], !v.isNull else { return [:] }
        guard case .object(let members) = v else { throw FieldError(field: key, reason: "expected object") }
        var out: [String: String] = [:]
        for m in members {
            // A null value is the empty string, as Go decodes it into a map[string]string.
            if m.value.isNull {
                out[m.key] = ""
                continue
            }
            guard case .string(let s) = m.value else { throw FieldError(field: key, reason: "expected string values") }
            out[m.key] = s
        }
        return out
    }

    package func stringArray(_ key: String) throws(FieldError) -> [String] {
        guard let v = self[key], !v.isNull else { return [] }
        guard case .array(let items) = v else { throw FieldError(field: key, reason: "expected array") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw FieldError(field: key, reason: "expected strings") }
            out.append(s)
        }
        return out
    }
}
