import StrataCompression
import StrataCore

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

/// Stored publications (the `entries` database): flags, time, payload (maybe zstd), info, tags.
/// The offset is the key, not part of the value.
enum PublicationRecord {
    static let compressedFlag: UInt8 = 1

    static func encode(_ p: Publication, compressor: ZstdCompressor?, minSize: Int) -> [UInt8] {
        var w = ByteWriter()
        var flags: UInt8 = 0
        var payload = p.data
        if let compressor, minSize > 0, p.data.count >= minSize, let packed = try? compressor.compress(p.data),
            packed.count < p.data.count
        {
            flags |= compressedFlag
            payload = packed
        }
        w.u8(flags)
        w.i64(p.time)
        if flags & compressedFlag != 0 { w.u32(UInt32(p.data.count)) }
        w.blob(payload)
        if let info = p.info {
            w.u8(1)
            w.string(info.user)
            w.string(info.client)
            w.optionalBlob(info.connInfo)
            w.optionalBlob(info.chanInfo)
        } else {
            w.u8(0)
        }
        w.u32(UInt32(p.tags.count))
        for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) {
            w.string(k)
            w.string(v)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], offset: UInt64, decompressors: ZstdDecompressorPool) throws -> Publication {
        var r = ByteReader(bytes)
        let flags = try r.u8()
        let time = try r.i64()
        var data: [UInt8]
        if flags & compressedFlag != 0 {
            let size = Int(try r.u32())
            let packed = try r.blob()
            data = try decompressors.withDecompressor { try $0.decompress(packed, expectedSize: size) }
        } else {
            data = try r.blob()
        }
        var info: ClientInfo?
        if try r.u8() == 1 {
            info = ClientInfo(user: try r.string(), client: try r.string(), connInfo: try r.optionalBlob(), chanInfo: try r.optionalBlob())
        }
        var tags: [String: String] = [:]
        let n = try r.u32()
        guard n < 100_000 else { throw RecordCorrupt(what: "tag count") }
        for _ in 0..<n { tags[try r.string()] = try r.string() }
        return Publication(offset: offset, data: data, info: info, tags: tags, time: time)
    }
}
