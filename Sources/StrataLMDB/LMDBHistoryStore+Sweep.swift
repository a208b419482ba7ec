import CLMDB
import StrataCore
import StrataHistory
import StrataRecordFormat

/// Expiry off the publish path: the sweeper walks the `expiry` index in due-time order and does a
/// bounded amount of work per transaction (`options.sweepBatch` deletions).
extension LMDBHistoryStore {
    /// One bounded sweep; true when due work is left for another batch.
    func sweepBatch(_ txn: LMDBTransaction, now: Int64) throws -> Bool {
        var budget = options.sweepBatch
        // Counted even if the transaction then fails: the figure is work done, not kept.
        defer { sweepMetrics.record(batchOf: options.sweepBatch - budget) }
        var unfinished = false
        let cursor = try txn.cursor(env.expiry)
        var item = try cursor.move(MDB_FIRST)
        while let (key, _) = item {
            guard key.count >= 17 else {
                try txn.delete(env.expiry, key)
                item = try cursor.move(MDB_SET_RANGE, to: key)
                continue
            }
            let due = Int64(bitPattern: KeySchema.readBE64(key, at: 0))
            if due > now { return unfinished }
            if budget <= 0 { return true }
            let id = KeySchema.readBE64(key, at: 8)
            let kind = KeySchema.ExpiryKind(rawValue: key[16]) ?? .garbage
            var finished = true
            switch kind {
            case .entries:
                finished = try sweepEntries(txn, id, now: now, budget: &budget)
            case .meta:
                try sweepMeta(txn, id, now: now)
                budget -= 1
            case .idempotency:
                let idemKey = KeySchema.be64(id) + Array(key[17...])
                if let v = try txn.get(env.idempotency, idemKey) {
                    var r = ByteReader(v)
                    if let expireAt = try? r.i64(), expireAt <= now { try txn.delete(env.idempotency, idemKey) }
                }
                budget -= 1
            case .garbage:
                finished = try deleteEntries(txn, id, below: .max, budget: &budget)
                if finished { finished = try deleteKeyed(txn, id, budget: &budget) }
            }
            if finished {
                try txn.delete(env.expiry, key)
            } else {
                unfinished = true
            }
            item = try cursor.move(MDB_SET_RANGE, to: key)
            if let next = item, next.key == key { item = try cursor.move(MDB_NEXT) }
        }
        return unfinished
    }

    /// Entry TTL reached (or a cleanup is due): empty the set if it really expired, re-file the key
    /// if the TTL moved on, and physically delete entries below the retained window.
    private func sweepEntries(_ txn: LMDBTransaction, _ id: UInt64, now: Int64, budget: inout Int) throws -> Bool {
        guard var meta = try meta(txn, id) else {
            return try deleteEntries(txn, id, below: .max, budget: &budget)
        }
        expireEntriesIfDue(&meta, now: now)
        if meta.entriesExpireAt != 0 && meta.entriesIndexedAt != meta.entriesExpireAt && meta.entriesIndexedAt <= now {
            try txn.put(env.expiry, KeySchema.expiryKey(at: meta.entriesExpireAt, id, .entries), [])
            meta.entriesIndexedAt = meta.entriesExpireAt
        } else if meta.entriesExpireAt == 0 {
            meta.entriesIndexedAt = 0
        }
        try putMeta(txn, id, meta)
        return try deleteEntries(txn, id, below: meta.first, budget: &budget)
    }

    /// Meta TTL reached: drop the stream if it really expired (the next access makes a new epoch),
    /// otherwise re-file the key at the current expiry.
    private func sweepMeta(_ txn: LMDBTransaction, _ id: UInt64, now: Int64) throws {
        guard var meta = try meta(txn, id) else { return }
        if Self.isExpired(meta, now: now) {
            try txn.delete(env.meta, KeySchema.metaKey(id))
            if try channelID(txn, meta.channel) == id { try removeChannelName(txn, meta.channel) }
            try txn.put(env.expiry, KeySchema.expiryKey(at: now, id, .garbage), [])
        } else if meta.metaExpireAt != 0 {
            try txn.put(env.expiry, KeySchema.expiryKey(at: meta.metaExpireAt, id, .meta), [])
            meta.metaIndexedAt = meta.metaExpireAt
            try putMeta(txn, id, meta)
        }
    }

    private func removeChannelName(_ txn: LMDBTransaction, _ channel: String) throws {
        if !KeySchema.isHashedName(channel) {
            try txn.delete(env.names, KeySchema.nameKey(channel))
            return
        }
        let name = Array(channel.utf8)
        for c in 0...UInt8.max {
            let key = KeySchema.nameKey(channel, collision: c)
            guard let v = try txn.get(env.names, key) else { return }
            // Keep collision chains intact: mark the slot free by pointing it at id 0.
            if v.count >= 8, Array(v[8...]) == name {
                try txn.put(env.names, key, KeySchema.be64(0) + [0xFF])
                return
            }
        }
    }

    /// Deletes the channel's entries with offsets below `limit`, at most `budget`; true when none are left.
    func deleteEntries(_ txn: LMDBTransaction, _ id: UInt64, below limit: UInt64, budget: inout Int) throws -> Bool {
        let cursor = try txn.cursor(env.entries)
        var entry = try cursor.move(MDB_SET_RANGE, to: KeySchema.entryKey(id, 0))
        while let (key, _) = entry {
            guard key.count == 16, KeySchema.readBE64(key, at: 0) == id, KeySchema.readBE64(key, at: 8) < limit else { return true }
            if budget <= 0 { return false }
            try cursor.deleteCurrent()
            budget -= 1
            // Re-seek rather than trust the cursor's position after a delete.
            entry = try cursor.move(MDB_SET_RANGE, to: key)
        }
        return true
    }
}
