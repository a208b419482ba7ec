import CLMDB
import StrataCore
import StrataHistory
import StrataRecordFormat

/// The write side: every function here runs on the writer thread inside its transaction.
extension LMDBHistoryStore {
    // MARK: Channel ids

    /// The channel's current id (a new epoch gets a new id, so old entries never collide with new offsets).
    func channelID(_ txn: LMDBTransaction, _ channel: String) throws -> UInt64? {
        if !KeySchema.isHashedName(channel) {
            guard let v = try txn.get(env.names, KeySchema.nameKey(channel)), v.count >= 8 else { return nil }
            return KeySchema.readBE64(v, at: 0)
        }
        let name = Array(channel.utf8)
        for c in 0...UInt8.max {
            guard let v = try txn.get(env.names, KeySchema.nameKey(channel, collision: c)), v.count >= 8 else { return nil }
            if Array(v[8...]) == name { return KeySchema.readBE64(v, at: 0) }
        }
        return nil
    }

    func setChannelID(_ txn: LMDBTransaction, _ channel: String, _ id: UInt64) throws {
        if !KeySchema.isHashedName(channel) {
            try txn.put(env.names, KeySchema.nameKey(channel), KeySchema.be64(id))
            return
        }
        let name = Array(channel.utf8)
        for c in 0...UInt8.max {
            let key = KeySchema.nameKey(channel, collision: c)
            if let v = try txn.get(env.names, key), v.count >= 8, Array(v[8...]) != name { continue }
            try txn.put(env.names, key, KeySchema.be64(id) + name)
            return
        }
        throw LMDBStoreError(path: options.path, reason: "too many hash collisions for a long channel name")
    }

    func allocateID(_ txn: LMDBTransaction) throws -> UInt64 {
        let key = Array("next_id".utf8)
        let next = try txn.get(env.info, key).map { KeySchema.readBE64($0, at: 0) } ?? 1
        try txn.put(env.info, key, KeySchema.be64(next + 1))
        return next
    }

    func meta(_ txn: LMDBTransaction, _ id: UInt64) throws -> MetaRecord? {
        try txn.get(env.meta, KeySchema.metaKey(id)).map { try MetaRecord(decoding: $0) }
    }

    func putMeta(_ txn: LMDBTransaction, _ id: UInt64, _ meta: MetaRecord) throws {
        try txn.put(env.meta, KeySchema.metaKey(id), meta.encoded())
    }

    static func isExpired(_ meta: MetaRecord, now: Int64) -> Bool { meta.metaExpireAt != 0 && now >= meta.metaExpireAt }

    /// The channel's live stream: its id and meta, creating both (a new epoch) when absent or expired.
    func liveStream(_ txn: LMDBTransaction, _ channel: String, now: Int64) throws -> (UInt64, MetaRecord) {
        if let id = try channelID(txn, channel) {
            if let m = try meta(txn, id), !Self.isExpired(m, now: now) { return (id, m) }
            // The old epoch's entries become garbage for the sweeper.
            try txn.delete(env.meta, KeySchema.metaKey(id))
            try txn.put(env.expiry, KeySchema.expiryKey(at: now, id, .garbage), [])
        }
        let id = try allocateID(txn)
        try setChannelID(txn, channel, id)
        return (id, MetaRecord(channel: channel, epoch: Epoch.generate()))
    }

    /// Applies the lazy parts of expiry: an entry set past its TTL is empty from now on.
    func expireEntriesIfDue(_ meta: inout MetaRecord, now: Int64) {
        if meta.entriesExpireAt != 0 && now >= meta.entriesExpireAt {
            meta.first = meta.top + 1
            meta.entriesExpireAt = 0
        }
    }

    /// Files the channel's TTL keys in the expiry index when none is filed (the sweeper re-files them).
    func indexTTLs(_ txn: LMDBTransaction, _ id: UInt64, _ meta: inout MetaRecord) throws {
        if meta.entriesExpireAt != 0 && meta.entriesIndexedAt == 0 {
            try txn.put(env.expiry, KeySchema.expiryKey(at: meta.entriesExpireAt, id, .entries), [])
            meta.entriesIndexedAt = meta.entriesExpireAt
        }
        if meta.metaExpireAt != 0 && meta.metaIndexedAt == 0 {
            try txn.put(env.expiry, KeySchema.expiryKey(at: meta.metaExpireAt, id, .meta), [])
            meta.metaIndexedAt = meta.metaExpireAt
        }
    }

    // MARK: Append

    func applyAppend(_ txn: LMDBTransaction, _ channel: String, _ pub: Publication, _ options: AppendOptions, now: Int64) throws
        -> AppendResult
    {
        let retention = options.retention
        if let key = options.idempotencyKey, let id = try channelID(txn, channel) {
            let k = KeySchema.idempotencyKey(id, key)
            if let v = try txn.get(env.idempotency, k) {
                var r = ByteReader(v)
                let expireAt = try r.i64()
                let offset = try r.u64()
                let epoch = try r.string()
                if now < expireAt {
                    return AppendResult(position: StreamPosition(offset: offset, epoch: epoch), publication: pub, suppressed: true)
                }
            }
        }
        var (id, meta) = try liveStream(txn, channel, now: now)
        let result: AppendResult
        if !retention.keepsHistory {
            result = AppendResult(position: StreamPosition(offset: 0, epoch: ""), publication: pub)
        } else {
            expireEntriesIfDue(&meta, now: now)
            if options.version > 0 {
                let sameEpoch = options.versionEpoch.isEmpty || options.versionEpoch == meta.versionEpoch
                if sameEpoch && meta.version > 0 && options.version <= meta.version {
                    try putMeta(txn, id, meta)
                    return AppendResult(position: StreamPosition(offset: meta.top, epoch: meta.epoch), publication: pub, suppressed: true)
                }
                meta.version = options.version
                meta.versionEpoch = options.versionEpoch
            }
            // Room for the key first. A refusal throws before anything is written: the writer
            // fails this append alone and commits the rest of its batch without it.
            let storesKey = try options.cacheKey.map { try admitKey(txn, id, &meta, $0) } ?? false
            var previous: Publication?
            if options.useDelta && !meta.isEmpty, let v = try txn.get(env.entries, KeySchema.entryKey(id, meta.top)) {
                previous = try PublicationRecord.decode(v, offset: meta.top, decompressors: decompressors)
            }
            let wasEmpty = meta.isEmpty
            meta.top += 1
            var stored = pub
            stored.offset = meta.top
            let record = PublicationRecord.encode(stored, compressor: compressor.value, minSize: self.options.compressMinSize)
            try txn.put(env.entries, KeySchema.entryKey(id, meta.top), record)
            if storesKey, let update = options.cacheKey {
                try putKey(txn, id, &meta, KeyedRecord(removed: update.removes, key: update.key, record: record), offset: meta.top)
            }
            if wasEmpty {
                // Entries below (logically expired or removed) are physically removed by the sweeper.
                if meta.first < meta.top { try txn.put(env.expiry, KeySchema.expiryKey(at: now, id, .entries), []) }
                meta.first = meta.top
            }
            // Exact trim to history_size, normally one deletion per append.
            let wanted = meta.top >= UInt64(retention.size) ? meta.top - UInt64(retention.size) + 1 : 1
            var deleted = 0
            while meta.first < wanted {
                if deleted == 256 {
                    // A shrunk history_size: leave the rest to the sweeper, reads already skip it.
                    try txn.put(env.expiry, KeySchema.expiryKey(at: now, id, .entries), [])
                    meta.first = wanted
                    break
                }
                try txn.delete(env.entries, KeySchema.entryKey(id, meta.first))
                meta.first += 1
                deleted += 1
            }
            meta.entriesExpireAt = now + retention.ttlSeconds * 1000
            result = AppendResult(position: StreamPosition(offset: meta.top, epoch: meta.epoch), publication: stored, previous: previous)
        }
        if retention.metaTTLSeconds > 0 { meta.metaExpireAt = now + retention.metaTTLSeconds * 1000 }
        try indexTTLs(txn, id, &meta)
        try putMeta(txn, id, meta)
        if let key = options.idempotencyKey {
            let k = KeySchema.idempotencyKey(id, key)
            var w = ByteWriter()
            let expireAt = now + options.idempotentResultTTLSeconds * 1000
            w.i64(expireAt)
            w.u64(result.position.offset)
            w.string(result.position.epoch)
            try txn.put(env.idempotency, k, w.bytes)
            try txn.put(env.expiry, KeySchema.expiryKey(at: expireAt, id, .idempotency, suffix: Array(k[8...])), [])
        }
        return result
    }

    // MARK: Meta creation and refresh for reads

    /// Creates the stream (new epoch) if needed and refreshes its meta TTL.
    func ensureMeta(_ txn: LMDBTransaction, _ channel: String, metaTTLSeconds: Int64, now: Int64) throws -> Bool {
        var (id, meta) = try liveStream(txn, channel, now: now)
        expireEntriesIfDue(&meta, now: now)
        if metaTTLSeconds > 0 { meta.metaExpireAt = now + metaTTLSeconds * 1000 }
        try indexTTLs(txn, id, &meta)
        try putMeta(txn, id, meta)
        return true
    }
}
