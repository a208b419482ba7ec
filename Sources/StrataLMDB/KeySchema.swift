/// Byte layouts of keys (storage/README.md). Integers are big-endian so that LMDB's bytewise key
/// order is numeric order: a cursor walks one channel's entries in offset order.
enum KeySchema {
    /// Channel names up to this many bytes are keys as they are; longer ones (LMDB keys stop at
    /// 511 bytes) are a prefix plus a hash, with the full name kept in the value to detect collisions.
    static let maxInlineName = 400

    /// `names` key for a channel: "n" + name, or "h" + first 384 bytes + FNV-1a 64 of the name + a
    /// collision counter.
    static func nameKey(_ channel: String, collision: UInt8 = 0) -> [UInt8] {
        let bytes = Array(channel.utf8)
        if bytes.count <= maxInlineName { return [UInt8(ascii: "n")] + bytes }
        var key = [UInt8(ascii: "h")] + bytes.prefix(384)
        key += be64(fnv1a64(bytes))
        key.append(collision)
        return key
    }

    static func isHashedName(_ channel: String) -> Bool { channel.utf8.count > maxInlineName }

    /// `entries` key: channel id then offset.
    static func entryKey(_ id: UInt64, _ offset: UInt64) -> [UInt8] { be64(id) + be64(offset) }

    /// `keyed` key: channel id then the entry's offset, so a cursor walks a table in offset order.
    static func keyedKey(_ id: UInt64, _ offset: UInt64) -> [UInt8] { be64(id) + be64(offset) }

    /// `meta` key.
    static func metaKey(_ id: UInt64) -> [UInt8] { be64(id) }

    /// `idempotency` key: channel id then the client's key (long keys hashed the same way as names).
    static func idempotencyKey(_ id: UInt64, _ key: String) -> [UInt8] { scopedKey(id, key) }

    /// `keyIndex` key: channel id then the cache key, laid out as idempotency keys.
    static func cacheKeyIndexKey(_ id: UInt64, _ key: String) -> [UInt8] { scopedKey(id, key) }

    /// A channel-scoped string key: up to 256 bytes as they are, longer ones a prefix plus a hash.
    private static func scopedKey(_ id: UInt64, _ key: String) -> [UInt8] {
        let bytes = Array(key.utf8)
        if bytes.count <= 256 { return be64(id) + [0] + bytes }
        return be64(id) + [1] + bytes.prefix(240) + be64(fnv1a64(bytes))
    }

    /// What an `expiry` index key asks the sweeper to do.
    enum ExpiryKind: UInt8 {
        /// The channel's entry set expires (history_ttl), or entries below the retained window wait for removal.
        case entries = 0
        /// The channel's meta expires (history_meta_ttl).
        case meta = 1
        /// An idempotent-publish result expires; the rest of the key is the idempotency key.
        case idempotency = 2
        /// A retired channel id (old epoch) whose entries are garbage.
        case garbage = 3
    }

    /// `expiry` key: due time (ms) then channel id then kind, plus a suffix for idempotency keys.
    static func expiryKey(at millis: Int64, _ id: UInt64, _ kind: ExpiryKind, suffix: [UInt8] = []) -> [UInt8] {
        be64(UInt64(max(0, millis))) + be64(id) + [kind.rawValue] + suffix
    }

    static func be64(_ v: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) }
    }

    static func readBE64(_ b: [UInt8], at i: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(b[i + k]) }
        return v
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
