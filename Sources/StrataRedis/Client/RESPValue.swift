/// One RESP2 reply as Redis sends it.
///
/// RESP2 has two nulls (`$-1` and `*-1`), but hiredis 0.14's reader turns both into the same
/// `REDIS_REPLY_NIL`, so a single `.null` case is all the reader can honestly report. No command
/// Strata uses gives the two nulls different meanings.
package enum RESPValue: Sendable, Hashable {
    /// A status reply (`+OK`), text without CR or LF.
    case simpleString(String)
    /// An error reply (`-ERR ...`): the server refused this one command; the connection is fine.
    case error(String)
    case integer(Int64)
    /// A binary-safe bulk string; may be empty.
    case bulkString([UInt8])
    case array([RESPValue])
    /// A null bulk string or null array.
    case null
}

extension RESPValue {
    /// The text of a status or bulk-string reply (bulk bytes decoded as UTF-8, invalid bytes replaced).
    package var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The bytes of a bulk-string or status reply.
    package var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer (Lua scripts often return those).
    package var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply.
    package var elements: [RESPValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    package var isNull: Bool { self == .null }

    /// The reply itself, or a `RedisError` with code `.serverError` when Redis answered with an error reply.
    package func checked() throws(RedisError) -> RESPValue {
        if case .error(let message) = self { throw RedisError(.serverError, message) }
        return self
    }
}
