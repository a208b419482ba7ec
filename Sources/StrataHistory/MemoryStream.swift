import DequeModule
import StrataCore

/// One channel's stream in memory: top offset, epoch, the retained entries and their expiry times.
struct MemoryStream {
    var epoch: String
    var top: UInt64 = 0
    /// Oldest first; offsets are contiguous from `entries.first!.offset` to `top`.
    var entries: Deque<Publication> = []
    /// When the entry set expires (ms); 0 = never armed.
    var entriesExpireAt: Int64 = 0
    /// When the whole stream (meta included) expires (ms); 0 = never.
    var metaExpireAt: Int64 = 0
    var version: UInt64 = 0
    var versionEpoch = ""
    /// Keyed cache channels: key → its latest publication or tombstone (KeyedCache.swift).
    var keyed: [String: KeyedCacheEntry] = [:]
    var keyedFloor: UInt64 = 0

    init(epoch: String) {
        self.epoch = epoch
    }

    mutating func expireEntriesIfDue(now: Int64) {
        if entriesExpireAt > 0, now >= entriesExpireAt {
            entries.removeAll()
            entriesExpireAt = 0
        }
    }

    /// Appends with the next offset and trims to `size`; returns the stored publication.
    mutating func append(_ pub: Publication, size: Int) -> Publication {
        top += 1
        var stored = pub
        stored.offset = top
        entries.append(stored)
        while entries.count > size { entries.removeFirst() }
        return stored
    }

    func read(_ filter: HistoryFilter) -> [Publication] {
        guard filter.limit != 0, let first = entries.first else { return [] }
        let limit = filter.limit < 0 ? Int.max : filter.limit
        let firstOffset = first.offset
        if !filter.reverse {
            var startIndex = 0
            if let since = filter.since {
                if since.offset >= top { return [] }
                let wanted = since.offset + 1
                startIndex = wanted <= firstOffset ? 0 : Int(wanted - firstOffset)
            }
            let endIndex = min(entries.count, startIndex + min(limit, entries.count))
            guard startIndex < endIndex else { return [] }
            return Array(entries[startIndex..<endIndex])
        } else {
            var lastIndex = entries.count - 1
            if let since = filter.since {
                // Entries strictly before since.offset; empty when since-1 is no longer retained.
                guard since.offset > firstOffset else { return [] }
                lastIndex = min(entries.count - 1, Int(since.offset - 1 - firstOffset))
            }
            var out: [Publication] = []
            var i = lastIndex
            while i >= 0, out.count < limit {
                out.append(entries[i])
                i -= 1
            }
            return out
        }
    }

    /// Makes room for `update` before the append that carries it: false when the append stores
    /// no entry (a removal of a key not held); throws when a new key finds the table full.
    mutating func admitKey(_ update: CacheKeyUpdate) throws(CacheKeyLimitExceeded) -> Bool {
        keyedFloor = floorOfKeyed
        if keyed[update.key] != nil { return true }
        if update.removes { return false }
        guard keyed.count >= update.limit else { return true }
        guard let oldest = keyed.filter(\.value.removed).min(by: { $0.value.publication.offset < $1.value.publication.offset }) else {
            throw CacheKeyLimitExceeded(limit: update.limit)
        }
        keyed[oldest.key] = nil
        keyedFloor = max(keyedFloor, oldest.value.publication.offset)
        return true
    }

    /// The table's floor; an empty table's is the top (KeyedCache.swift).
    var floorOfKeyed: UInt64 { keyed.isEmpty ? max(keyedFloor, top) : keyedFloor }

    func readKeyed(since: UInt64?) -> [KeyedCacheEntry] {
        let entries = keyed.values.filter { entry in
            if let since { return entry.publication.offset > since }
            return !entry.removed
        }
        return entries.sorted { $0.publication.offset < $1.publication.offset }
    }
}
