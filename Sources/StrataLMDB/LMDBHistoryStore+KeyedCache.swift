import CLMDB
import StrataCore
import StrataHistory
import StrataRecordFormat

/// Keyed cache tables (StrataHistory/KeyedCache.swift) in two databases: `keyed` holds each
/// key's latest entry under channel id + offset, so a table reads in offset order and "changes
/// since N" is one cursor range; `keyIndex` finds a key's entry by channel id + key. Both are
/// scoped by the channel id, so a retired epoch's table is garbage for the sweeper.
extension LMDBHistoryStore {
    /// Makes room for `update` before the append that carries it (writer thread): drops the
    /// key's previous entry, or, for a new key at the limit, the oldest tombstone (none left:
    /// `CacheKeyLimitExceeded`). false: a removal of a key the table does not hold, nothing to store.
    func admitKey(_ txn: LMDBTransaction, _ id: UInt64, _ meta: inout MetaRecord, _ update: CacheKeyUpdate) throws -> Bool {
        meta.keyFloor = meta.floorOfKeyed
        if let v = try txn.get(env.keyIndex, KeySchema.cacheKeyIndexKey(id, update.key)), v.count == 8 {
            if try txn.delete(env.keyed, KeySchema.keyedKey(id, KeySchema.readBE64(v, at: 0))) { meta.keyCount -= min(meta.keyCount, 1) }
            return true
        }
        if update.removes { return false }
        guard meta.keyCount >= UInt64(max(0, update.limit)) else { return true }
        guard try dropOldestTombstone(txn, id, &meta) else { throw CacheKeyLimitExceeded(limit: update.limit) }
        return true
    }

    /// Stores the key's new entry at `offset` (after `admitKey` made room).
    func putKey(_ txn: LMDBTransaction, _ id: UInt64, _ meta: inout MetaRecord, _ entry: KeyedRecord, offset: UInt64) throws {
        try txn.put(env.keyed, KeySchema.keyedKey(id, offset), entry.encoded())
        try txn.put(env.keyIndex, KeySchema.cacheKeyIndexKey(id, entry.key), KeySchema.be64(offset))
        meta.keyCount += 1
    }

    /// The oldest tombstone goes, and changes up to its offset may now be forgotten. Walks the
    /// table from its oldest entry: only a table full of live keys with tombstones behind them
    /// walks far, and only when a new key arrives at the limit.
    private func dropOldestTombstone(_ txn: LMDBTransaction, _ id: UInt64, _ meta: inout MetaRecord) throws -> Bool {
        let cursor = try txn.cursor(env.keyed)
        var item = try cursor.move(MDB_SET_RANGE, to: KeySchema.keyedKey(id, 0))
        while let (key, value) = item, key.count == 16, KeySchema.readBE64(key, at: 0) == id {
            let entry = try KeyedRecord(decoding: value)
            if entry.removed {
                try cursor.deleteCurrent()
                _ = try txn.delete(env.keyIndex, KeySchema.cacheKeyIndexKey(id, entry.key))
                meta.keyCount -= min(meta.keyCount, 1)
                meta.keyFloor = max(meta.keyFloor, KeySchema.readBE64(key, at: 8))
                return true
            }
            item = try cursor.move(MDB_NEXT)
        }
        return false
    }

    /// The table's live entries (`since` nil) or every entry after `since`, in offset order.
    func readKeyed(_ txn: LMDBTransaction, _ id: UInt64, since: UInt64?) throws -> [KeyedCacheEntry] {
        var out: [KeyedCacheEntry] = []
        let cursor = try txn.cursor(env.keyed)
        var item = try cursor.move(MDB_SET_RANGE, to: KeySchema.keyedKey(id, (since ?? 0) &+ 1))
        while let (key, value) = item, key.count == 16, KeySchema.readBE64(key, at: 0) == id {
            let entry = try KeyedRecord(decoding: value)
            if since != nil || !entry.removed {
                let offset = KeySchema.readBE64(key, at: 8)
                let publication = try PublicationRecord.decode(entry.record, offset: offset, decompressors: decompressors)
                out.append(KeyedCacheEntry(publication: publication, removed: entry.removed))
            }
            item = try cursor.move(MDB_NEXT)
        }
        return out
    }

    /// `history_remove`: the table empties, and a client positioned before now cannot catch up
    /// with changes. The deletions share the writer's transaction; a table holds at most
    /// `cache_key_limit` entries.
    func removeKeyed(_ txn: LMDBTransaction, _ id: UInt64, _ meta: inout MetaRecord) throws {
        var unbounded = Int.max
        _ = try deleteKeyed(txn, id, budget: &unbounded)
        meta.keyCount = 0
        meta.keyFloor = meta.top
    }

    /// Deletes the channel id's table, at most `budget` rows; true when none are left.
    func deleteKeyed(_ txn: LMDBTransaction, _ id: UInt64, budget: inout Int) throws -> Bool {
        for dbi in [env.keyed, env.keyIndex] {
            let cursor = try txn.cursor(dbi)
            var item = try cursor.move(MDB_SET_RANGE, to: KeySchema.be64(id))
            while let (key, _) = item, key.count >= 8, KeySchema.readBE64(key, at: 0) == id {
                if budget <= 0 { return false }
                try cursor.deleteCurrent()
                budget -= 1
                item = try cursor.move(MDB_SET_RANGE, to: key)
            }
        }
        return true
    }
}
