import StrataCore
import StrataHistory
import StrataRecordFormat

/// One channel's stream meta (the `meta` database). Survives the entries' TTL; its own TTL ends the epoch.
struct MetaRecord: Equatable {
    /// 2 added the keyed cache fields; version 1 records read with both 0.
    static let version: UInt8 = 2

    var channel: String
    var epoch: String
    var top: UInt64 = 0
    /// Oldest retained offset; `first > top` means no entries.
    var first: UInt64 = 1
    /// When the entry set expires (ms; 0 = not armed).
    var entriesExpireAt: Int64 = 0
    /// When the whole stream expires (ms; 0 = never).
    var metaExpireAt: Int64 = 0
    var version: UInt64 = 0
    var versionEpoch = ""
    /// Due times of this channel's keys in the `expiry` index (0 = none). The index may run early:
    /// the sweeper re-checks the meta and re-files the key, so publishes never touch the index.
    var entriesIndexedAt: Int64 = 0
    var metaIndexedAt: Int64 = 0
    /// Keyed cache channels: entries in the table (live keys and tombstones), and the offset at or
    /// below which changes may be forgotten (KeyedCache.swift).
    var keyCount: UInt64 = 0
    var keyFloor: UInt64 = 0

    var isEmpty: Bool { first > top }

    /// The keyed table's floor; an empty table's is the top (StrataHistory/KeyedCache.swift).
    var floorOfKeyed: UInt64 { keyCount == 0 ? max(keyFloor, top) : keyFloor }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(Self.version)
        w.u64(top)
        w.u64(first)
        w.i64(entriesExpireAt)
        w.i64(metaExpireAt)
        w.u64(version)
        w.i64(entriesIndexedAt)
        w.i64(metaIndexedAt)
        w.string(versionEpoch)
        w.string(epoch)
        w.string(channel)
        w.u64(keyCount)
        w.u64(keyFloor)
        return w.bytes
    }

    init(channel: String, epoch: String) {
        self.channel = channel
        self.epoch = epoch
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let format = try r.u8()
        guard format == 1 || format == Self.version else { throw RecordCorrupt(what: "meta record version") }
        top = try r.u64()
        first = try r.u64()
        entriesExpireAt = try r.i64()
        metaExpireAt = try r.i64()
        version = try r.u64()
        entriesIndexedAt = try r.i64()
        metaIndexedAt = try r.i64()
        versionEpoch = try r.string()
        epoch = try r.string()
        channel = try r.string()
        if format >= 2 {
            keyCount = try r.u64()
            keyFloor = try r.u64()
        }
    }
}

/// One entry of a keyed cache table (the `keyed` database): whether it is a tombstone, its key
/// (to find the index entry when it is dropped), then the publication record.
struct KeyedRecord {
    var removed: Bool
    var key: String
    var record: [UInt8]

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(removed ? 1 : 0)
        w.string(key)
        w.bytes += record
        return w.bytes
    }

    init(removed: Bool, key: String, record: [UInt8]) {
        self.removed = removed
        self.key = key
        self.record = record
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let flag = try r.u8()
        guard flag <= 1 else { throw RecordCorrupt(what: "keyed entry flag") }
        removed = flag == 1
        key = try r.string()
        record = Array(bytes[r.index...])
    }
}
