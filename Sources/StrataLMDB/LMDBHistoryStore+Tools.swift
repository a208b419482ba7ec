import CLMDB
import Foundation
import StrataCompression
import StrataCore
import StrataHistory
import StrataRecordFormat

/// Operator tooling: statistics, dumps, export and import (`strata history …`).
extension LMDBHistoryStore {
    package struct Stats: Sendable {
        package var channels: Int
        package var entries: Int
        package var mapSize: Int
        /// Bytes of the map in use (pages × page size).
        package var usedBytes: Int
        package var fileBytes: Int
    }

    package struct ChannelSummary: Sendable {
        package var channel: String
        package var epoch: String
        package var top: UInt64
        /// Retained entries (first…top).
        package var retained: UInt64
        package var entriesExpireAtMillis: Int64
        package var metaExpireAtMillis: Int64
    }

    package func stats() throws -> Stats {
        var info = MDB_envinfo()
        mdb_env_info(env.env, &info)
        let meta = try env.stat(env.meta)
        let entries = try env.stat(env.entries)
        let pageSize = Int(meta.ms_psize)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: options.path + "/data.mdb")[.size] as? Int) ?? 0
        return Stats(
            channels: meta.ms_entries, entries: entries.ms_entries, mapSize: info.me_mapsize,
            usedBytes: (info.me_last_pgno + 1) * pageSize, fileBytes: fileBytes)
    }

    /// Channels in id order (at most `limit`).
    package func channels(limit: Int = .max) throws -> [ChannelSummary] {
        try env.read { txn in
            var out: [ChannelSummary] = []
            let cursor = try txn.cursor(env.meta)
            var item = try cursor.move(MDB_FIRST)
            while let (_, value) = item, out.count < limit {
                let m = try MetaRecord(decoding: value)
                out.append(summary(m))
                item = try cursor.move(MDB_NEXT)
            }
            return out
        }
    }

    package func summary(of channel: String) throws -> ChannelSummary? {
        try env.read { txn in
            guard let id = try channelID(txn, channel), let m = try meta(txn, id) else { return nil }
            return summary(m)
        }
    }

    private func summary(_ meta: MetaRecord) -> ChannelSummary {
        var m = meta
        expireEntriesIfDue(&m, now: clock.nowMillis())
        return ChannelSummary(
            channel: m.channel, epoch: m.epoch, top: m.top, retained: m.isEmpty ? 0 : m.top - m.first + 1,
            entriesExpireAtMillis: m.entriesExpireAt, metaExpireAtMillis: m.metaExpireAt)
    }

    /// Retained publications after `since` (oldest first), without creating or refreshing anything.
    package func dump(channel: String, since: UInt64 = 0, limit: Int = -1) throws -> [Publication] {
        let now = clock.nowMillis()
        return try env.read { txn in
            guard let id = try channelID(txn, channel), var m = try meta(txn, id) else { return [] }
            expireEntriesIfDue(&m, now: now)
            return try readEntries(txn, id, m, HistoryFilter(since: since > 0 ? StreamPosition(offset: since, epoch: "") : nil, limit: limit))
        }
    }

    // MARK: Export / import

    /// Export file: zstd stream of `STRATA-EXPORT-1\n`, then per channel `C` + meta record, its
    /// entries as `E` + offset + record, and `Z` at the end. Records are this store's own encodings.
    static let exportMagic = Array("STRATA-EXPORT-1\n".utf8)

    /// Writes every stream to `file`; `progress(channels, publications)` is called after each channel.
    package func export(to file: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> (channels: Int, entries: Int) {
        let out = try ZstdFileWriter(path: file)
        try out.write(Self.exportMagic)
        var channels = 0
        var entries = 0
        var lastID: UInt64 = 0
        while true {
            // One read transaction per channel, so a long export never pins old pages for long.
            let done: Bool = try env.read { txn in
                let cursor = try txn.cursor(env.meta)
                guard let (key, value) = try cursor.move(MDB_SET_RANGE, to: KeySchema.metaKey(lastID + 1)) else { return true }
                let id = KeySchema.readBE64(key, at: 0)
                lastID = id
                let m = try MetaRecord(decoding: value)
                var w = ByteWriter()
                w.u8(UInt8(ascii: "C"))
                w.blob(m.encoded())
                try out.write(w.bytes)
                if !m.isEmpty {
                    let ec = try txn.cursor(env.entries)
                    var e = try ec.move(MDB_SET_RANGE, to: KeySchema.entryKey(id, m.first))
                    while let (k, v) = e, KeySchema.readBE64(k, at: 0) == id {
                        let offset = KeySchema.readBE64(k, at: 8)
                        if offset > m.top { break }
                        var ew = ByteWriter()
                        ew.u8(UInt8(ascii: "E"))
                        ew.u64(offset)
                        ew.blob(v)
                        try out.write(ew.bytes)
                        entries += 1
                        e = try ec.move(MDB_NEXT)
                    }
                }
                // The keyed cache table (its entries as stored: flag, key, record).
                let kc = try txn.cursor(env.keyed)
                var k = try kc.move(MDB_SET_RANGE, to: KeySchema.keyedKey(id, 0))
                while let (key, value) = k, key.count == 16, KeySchema.readBE64(key, at: 0) == id {
                    var kw = ByteWriter()
                    kw.u8(UInt8(ascii: "K"))
                    kw.u64(KeySchema.readBE64(key, at: 8))
                    kw.blob(value)
                    try out.write(kw.bytes)
                    k = try kc.move(MDB_NEXT)
                }
                return false
            }
            if done { break }
            channels += 1
            progress(channels, entries)
        }
        try out.write([UInt8(ascii: "Z")])
        try out.finish()
        progress(channels, entries)
        return (channels, entries)
    }

    /// Loads an export into this store. Channels already present are replaced by the imported stream.
    /// `progress(channels, publications, share of the file read)` after each channel.
    package func importExport(from file: String, progress: @escaping @Sendable (Int, Int, Double) -> Void = { _, _, _ in }) async throws
        -> (channels: Int, entries: Int)
    {
        let input = try ZstdFileReader(path: file)
        guard try input.read(Self.exportMagic.count) == Self.exportMagic else {
            throw LMDBStoreError(path: file, reason: "not a Strata history export")
        }
        var channels = 0
        var entries = 0
        var current: (meta: MetaRecord, entries: [(UInt64, [UInt8])], keyed: [(UInt64, [UInt8])])?
        func flush() async throws {
            guard let c = current else { return }
            _ = try await write { txn in try self.importEntries(txn, c.meta, c.entries, keyed: c.keyed) }
            channels += 1
            entries += c.entries.count
            progress(channels, entries, input.shareRead)
            current = nil
        }
        while true {
            guard let tag = try input.read(1)?.first else { throw LMDBStoreError(path: file, reason: "export ends without its end marker") }
            switch tag {
            case UInt8(ascii: "C"):
                try await flush()
                let meta = try MetaRecord(decoding: try readBlob(input, file))
                current = (meta, [], [])
            case UInt8(ascii: "E"):
                guard current != nil, let raw = try input.read(8) else { throw LMDBStoreError(path: file, reason: "entry outside a channel") }
                let offset = KeySchema.readBE64(raw, at: 0)
                current?.entries.append((offset, try readBlob(input, file)))
            case UInt8(ascii: "K"):
                guard current != nil, let raw = try input.read(8) else { throw LMDBStoreError(path: file, reason: "keyed entry outside a channel") }
                current?.keyed.append((KeySchema.readBE64(raw, at: 0), try readBlob(input, file)))
            case UInt8(ascii: "Z"):
                try await flush()
                progress(channels, entries, input.shareRead)
                return (channels, entries)
            default:
                throw LMDBStoreError(path: file, reason: "unknown record tag \(tag)")
            }
            if let c = current, c.entries.count + c.keyed.count >= 10_000 {
                // Large channels go in several transactions; meta last, so a crash mid-import
                // leaves the previous state of that channel readable.
                _ = try await write { txn in try self.importEntries(txn, c.meta, c.entries, keyed: c.keyed) }
                entries += c.entries.count
                current?.entries = []
                current?.keyed = []
            }
        }
    }

    private func readBlob(_ input: ZstdFileReader, _ file: String) throws -> [UInt8] {
        guard let lenBytes = try input.read(4) else { throw LMDBStoreError(path: file, reason: "truncated") }
        let len = Int(lenBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard len < 256 << 20, let bytes = try input.read(len) else { throw LMDBStoreError(path: file, reason: "truncated record") }
        return bytes
    }

    /// The channel id an import writes to: a fresh id bound to the channel name.
    private func importTarget(_ txn: LMDBTransaction, _ meta: MetaRecord) throws -> UInt64 {
        if let id = try channelID(txn, meta.channel), let existing = try self.meta(txn, id), existing.epoch == meta.epoch {
            return id
        }
        let now = clock.nowMillis()
        if let old = try channelID(txn, meta.channel) {
            try txn.delete(env.meta, KeySchema.metaKey(old))
            try txn.put(env.expiry, KeySchema.expiryKey(at: now, old, .garbage), [])
        }
        let id = try allocateID(txn)
        try setChannelID(txn, meta.channel, id)
        return id
    }

    private func importEntries(_ txn: LMDBTransaction, _ meta: MetaRecord, _ list: [(UInt64, [UInt8])], keyed: [(UInt64, [UInt8])])
        throws -> Bool
    {
        let id = try importTarget(txn, meta)
        var m = meta
        m.entriesIndexedAt = 0
        m.metaIndexedAt = 0
        try indexTTLs(txn, id, &m)
        try putMeta(txn, id, m)
        for (offset, record) in list { try txn.put(env.entries, KeySchema.entryKey(id, offset), record) }
        for (offset, stored) in keyed {
            let entry = try KeyedRecord(decoding: stored)
            try txn.put(env.keyed, KeySchema.keyedKey(id, offset), stored)
            try txn.put(env.keyIndex, KeySchema.cacheKeyIndexKey(id, entry.key), KeySchema.be64(offset))
        }
        return true
    }
}
