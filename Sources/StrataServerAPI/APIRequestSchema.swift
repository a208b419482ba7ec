import StrataProtocol

/// A request body whose JSON does not decode into the method's request message.
struct APIUndecodable: Error, Equatable {
    let field: String
}

/// The field types of the server API's request messages (Centrifugo's `api.proto`), checked the
/// way Centrifugo's generated JSON decoders check them: every known field must have its type
/// (null counts as absent), integers are plain JSON integers in range (no `"5"`, `5.0` or
/// `1e1`), unknown fields are ignored. A body that fails is answered HTTP 400 `Bad Request`,
/// not error 107 (`docs/compatibility.md`). The methods then read fields leniently, which
/// is safe once the types are known to be right.
enum APIRequestSchema {
    indirect enum FieldType {
        case string, bool, int32, int64, uint32, uint64
        /// `bytes` fields (`data`, `info`, `params`): any JSON value.
        case json
        case stringMap
        case stringArray
        case message([String: FieldType])
        case messageArray([String: FieldType])
    }

    static let streamPosition: [String: FieldType] = ["offset": .uint64, "epoch": .string]
    static let boolValue: FieldType = .message(["value": .bool])
    static let filterNodeFields: [String: FieldType] = [
        "op": .string, "key": .string, "cmp": .string, "val": .string, "vals": .stringArray,
    ]
    /// `FilterNode` nests itself; two levels are checked (OSS parses it but never acts on it).
    static let filterNode: FieldType = .message(filterNodeFields.merging(["nodes": .messageArray(filterNodeFields)]) { a, _ in a })

    static let publishFields: [String: FieldType] = [
        "data": .json, "b64data": .string, "skip_history": .bool, "tags": .stringMap, "idempotency_key": .string,
        "delta": .bool, "version": .uint64, "version_epoch": .string,
    ]

    /// Request fields per method, by the method's name in the API path.
    static let methods: [String: [String: FieldType]] = [
        "publish": publishFields.merging(["channel": .string]) { a, _ in a },
        "broadcast": publishFields.merging(["channels": .stringArray]) { a, _ in a },
        "subscribe": [
            "channel": .string, "user": .string, "expire_at": .int64, "info": .json, "b64info": .string, "client": .string,
            "data": .json, "b64data": .string, "recover_since": .message(streamPosition),
            "override": .message([
                "presence": boolValue, "join_leave": boolValue, "force_recovery": boolValue, "force_positioning": boolValue,
                "force_push_join_leave": boolValue,
            ]),
            "session": .string, "label_filter": filterNode, "all_users": .bool,
        ],
        "unsubscribe": [
            "channel": .string, "user": .string, "client": .string, "session": .string, "label_filter": filterNode, "all_users": .bool,
        ],
        "disconnect": [
            "user": .string, "disconnect": .message(["code": .uint32, "reason": .string]), "client": .string,
            "whitelist": .stringArray, "session": .string, "label_filter": filterNode, "all_users": .bool,
        ],
        "refresh": [
            "user": .string, "client": .string, "expired": .bool, "expire_at": .int64, "info": .json, "session": .string,
            "label_filter": filterNode, "all_users": .bool,
        ],
        "presence": ["channel": .string],
        "presence_stats": ["channel": .string],
        // `compacted` is Strata's own: the keyed cache table instead of the stream (docs/keyed-cache.md).
        "history": ["channel": .string, "limit": .int32, "since": .message(streamPosition), "reverse": .bool, "compacted": .bool],
        "history_remove": ["channel": .string],
        "channels": ["pattern": .string],
        "info": [:],
        "rpc": ["method": .string, "params": .json],
    ]

    /// Checks `params` (an object, or null for an empty request) against `method`'s fields.
    static func check(_ method: String, _ params: JSONValue) throws(APIUndecodable) {
        guard let fields = methods[method] else { return }
        try check(.message(fields), params, path: method)
    }

    /// Checks a `batch` body: `commands` is an array of objects whose first member names a
    /// method; each known method's request is checked. Unknown or missing methods are not a
    /// decoding matter (they answer 104 in the batch).
    static func checkBatch(_ params: JSONValue) throws(APIUndecodable) {
        try check(.message(["parallel": .bool]), params, path: "batch")
        guard let commands = params["commands"], !commands.isNull else { return }
        guard case .array(let items) = commands else { throw APIUndecodable(field: "batch.commands") }
        for item in items {
            guard case .object(let members) = item else { throw APIUndecodable(field: "batch.commands[]") }
            for m in members where methods[m.key] != nil {
                guard m.value.isNull || isObject(m.value) else { throw APIUndecodable(field: "batch.\(m.key)") }
                try check(m.key, m.value)
            }
        }
    }

    private static func isObject(_ v: JSONValue) -> Bool {
        if case .object = v { return true }
        return false
    }

    private static func check(_ type: FieldType, _ value: JSONValue, path: String) throws(APIUndecodable) {
        if value.isNull { return }
        let ok: Bool
        switch type {
        case .json:
            ok = true
        case .string:
            if case .string = value { ok = true } else { ok = false }
        case .bool:
            if case .bool = value { ok = true } else { ok = false }
        case .int32:
            ok = integer(value).map { Int32(exactly: $0) != nil } ?? false
        case .int64:
            ok = integer(value) != nil
        case .uint32:
            ok = unsigned(value).map { UInt32(exactly: $0) != nil } ?? false
        case .uint64:
            ok = unsigned(value) != nil
        case .stringMap:
            guard case .object(let members) = value else { throw APIUndecodable(field: path) }
            for m in members {
                try check(.string, m.value, path: "\(path).\(m.key)")
            }
            ok = true
        case .stringArray:
            guard case .array(let items) = value else { throw APIUndecodable(field: path) }
            for item in items { try check(.string, item, path: path) }
            ok = true
        case .message(let fields):
            guard case .object(let members) = value else { throw APIUndecodable(field: path) }
            for m in members {
                guard let t = fields[m.key] else { continue }
                try check(t, m.value, path: "\(path).\(m.key)")
            }
            ok = true
        case .messageArray(let fields):
            guard case .array(let items) = value else { throw APIUndecodable(field: path) }
            for item in items { try check(.message(fields), item, path: path) }
            ok = true
        }
        if !ok { throw APIUndecodable(field: path) }
    }

    /// A plain JSON integer (Go's decoders reject fractions and exponents for integer fields).
    private static func integer(_ v: JSONValue) -> Int64? {
        guard case .number(let text) = v else { return nil }
        return Int64(text)
    }

    private static func unsigned(_ v: JSONValue) -> UInt64? {
        guard case .number(let text) = v else { return nil }
        return UInt64(text)
    }
}
