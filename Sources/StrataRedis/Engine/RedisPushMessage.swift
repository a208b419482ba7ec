import StrataCore
import StrataRecordFormat

/// What nodes send each other on a channel's PUB/SUB name, with Centrifugo's prefixes
/// (docs/protocol/history.md §4); the records are Strata's (`PublicationRecord`, `ClientInfoRecord`).
///
/// - `__p1:<offset>:<epoch>__<record>`: a publication with its stream position
/// - `__d1:<offset>:<epoch>:<len>:<previous record>:<len>:<record>`: the same with its delta base
/// - `__j__<info>` / `__l__<info>`: join and leave
/// - anything else: a publication without a position (the channel keeps no history)
///
/// The `__p1` and `__d1` forms are written by `history_add.lua`, the others here.
enum RedisPushMessage: Equatable {
    case publication(offset: UInt64, epoch: String, record: ArraySlice<UInt8>)
    case delta(offset: UInt64, epoch: String, previous: ArraySlice<UInt8>, record: ArraySlice<UInt8>)
    case join(ArraySlice<UInt8>)
    case leave(ArraySlice<UInt8>)
    case unpositioned(ArraySlice<UInt8>)

    static func join(_ info: ClientInfo) -> [UInt8] { Array("__j__".utf8) + ClientInfoRecord.encode(info) }
    static func leave(_ info: ClientInfo) -> [UInt8] { Array("__l__".utf8) + ClientInfoRecord.encode(info) }

    /// Nil for a prefixed message that does not parse (never sent by a Strata node).
    static func parse(_ payload: [UInt8]) -> RedisPushMessage? {
        var cursor = Cursor(bytes: payload[...])
        if cursor.skip("__p1:") {
            guard let offset = cursor.number(until: ":"), let epoch = cursor.text(until: "__") else { return nil }
            return .publication(offset: offset, epoch: epoch, record: cursor.rest)
        }
        if cursor.skip("__d1:") {
            guard let offset = cursor.number(until: ":"), let epoch = cursor.text(until: ":"),
                let previous = cursor.sized(), let record = cursor.sized(), cursor.rest.isEmpty
            else { return nil }
            return .delta(offset: offset, epoch: epoch, previous: previous, record: record)
        }
        if cursor.skip("__j__") { return .join(cursor.rest) }
        if cursor.skip("__l__") { return .leave(cursor.rest) }
        return .unpositioned(payload[...])
    }

    private struct Cursor {
        var bytes: ArraySlice<UInt8>
        var rest: ArraySlice<UInt8> { bytes }

        mutating func skip(_ literal: String) -> Bool {
            let l = Array(literal.utf8)
            guard bytes.starts(with: l) else { return false }
            bytes = bytes.dropFirst(l.count)
            return true
        }

        /// The bytes up to `separator`, which is consumed too.
        mutating func field(until separator: String) -> ArraySlice<UInt8>? {
            let s = Array(separator.utf8)
            var i = bytes.startIndex
            while i + s.count <= bytes.endIndex {
                if bytes[i..<i + s.count].elementsEqual(s) {
                    let field = bytes[bytes.startIndex..<i]
                    bytes = bytes[(i + s.count)...]
                    return field
                }
                i += 1
            }
            return nil
        }

        mutating func number(until separator: String) -> UInt64? {
            guard let f = field(until: separator), !f.isEmpty, f.count <= 20 else { return nil }
            return UInt64(String(decoding: f, as: UTF8.self))
        }

        mutating func text(until separator: String) -> String? {
            field(until: separator).map { String(decoding: $0, as: UTF8.self) }
        }

        /// `<len>:<bytes>` with an optional `:` after the bytes.
        mutating func sized() -> ArraySlice<UInt8>? {
            guard let n = number(until: ":").flatMap({ Int(exactly: $0) }), n <= bytes.count else { return nil }
            let value = bytes.prefix(n)
            bytes = bytes.dropFirst(n)
            _ = skip(":")
            return value
        }
    }
}
