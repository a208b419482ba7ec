import StrataCore
import StrataHistory
import StrataRecordFormat

/// One channel's stream meta (the `meta` database). Survives the entries' TTL; its own TTL ends the epoch.
struct MetaRecord: Equatable {
    static let version: UInt8 = 1

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

    var isEmpty: Bool { first > top }

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
        return w.bytes
    }

    init(channel: String, epoch: String) {
        self.channel = channel
        self.epoch = epoch
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == Self.version else { throw RecordCorrupt(what: "meta record version") }
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
    }
}
