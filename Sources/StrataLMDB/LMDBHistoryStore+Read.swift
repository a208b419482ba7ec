import CLMDB
import StrataCore
import StrataHistory
import StrataRecordFormat

/// The read side: read-only transactions on the caller's thread.
extension LMDBHistoryStore {
    enum ReadOutcome<T> {
        case result(T)
        /// The stream must be created (new epoch) or its meta TTL refreshed: a write first.
        case needsMetaWrite
    }

    /// Reads `filter` from the channel's stream, or says a meta write is needed first.
    func readStream(_ channel: String, _ filter: HistoryFilter, metaTTLSeconds: Int64, now: Int64) throws -> ReadOutcome<HistoryResult> {
        try readLive(channel, metaTTLSeconds: metaTTLSeconds, now: now) { txn, id, meta in
            HistoryResult(publications: try readEntries(txn, id, meta, filter), top: StreamPosition(offset: meta.top, epoch: meta.epoch))
        }
    }

    /// Runs `body` on the channel's live stream in a read transaction, or says a meta write is
    /// needed first. `metaTTLSeconds` 0 skips the refresh check (used right after a refresh).
    func readLive<T>(
        _ channel: String, metaTTLSeconds: Int64, now: Int64, _ body: (LMDBTransaction, UInt64, MetaRecord) throws -> T
    ) throws -> ReadOutcome<T> {
        try env.read { txn in
            guard let id = try channelID(txn, channel), var meta = try meta(txn, id), !Self.isExpired(meta, now: now) else {
                return .needsMetaWrite
            }
            if metaTTLSeconds > 0 {
                // Refresh the meta TTL only when it moved noticeably, so reads rarely write.
                let wanted = now + metaTTLSeconds * 1000
                let slack = min(60_000, metaTTLSeconds * 100)
                if wanted - meta.metaExpireAt > slack { return .needsMetaWrite }
            }
            expireEntriesIfDue(&meta, now: now)
            return .result(try body(txn, id, meta))
        }
    }

    /// Entries in [first, top] selected by since/limit/reverse, in the order asked for.
    func readEntries(_ txn: LMDBTransaction, _ id: UInt64, _ meta: MetaRecord, _ filter: HistoryFilter) throws -> [Publication] {
        guard filter.limit != 0, !meta.isEmpty else { return [] }
        let limit = filter.limit < 0 ? Int.max : filter.limit
        var from: UInt64
        var to: UInt64
        if !filter.reverse {
            from = meta.first
            to = meta.top
            if let since = filter.since {
                if since.offset >= meta.top { return [] }
                from = max(from, since.offset + 1)
            }
        } else {
            from = meta.top
            to = meta.first
            if let since = filter.since {
                guard since.offset > meta.first else { return [] }
                from = min(from, since.offset - 1)
            }
        }
        var out: [Publication] = []
        let cursor = try txn.cursor(env.entries)
        var entry = try cursor.move(MDB_SET_KEY, to: KeySchema.entryKey(id, from))
        while let (key, value) = entry, out.count < limit {
            guard key.count == 16, KeySchema.readBE64(key, at: 0) == id else { break }
            let offset = KeySchema.readBE64(key, at: 8)
            if filter.reverse ? offset < to : offset > to { break }
            out.append(try PublicationRecord.decode(value, offset: offset, decompressors: decompressors))
            entry = try cursor.move(filter.reverse ? MDB_PREV : MDB_NEXT)
        }
        return out
    }
}
