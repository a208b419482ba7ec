import StrataCore

/// Keyed cache channels (docs/keyed-cache.md): besides its stream, a channel whose namespace names
/// a `cache_key_tag` keeps the latest publication of every key, so a subscriber gets the whole
/// table (fresh) or what changed since its position (resuming), however far the stream was trimmed.
///
/// Contract (checked by the shared contract suite, on every store):
/// - the table lives and dies with the stream meta: a new epoch starts it empty;
/// - an append with a key replaces that key's entry, atomically with the append;
/// - a removal (tombstone) replaces the key's entry with itself, so resuming clients learn of it;
///   a removal of a key the table does not hold stores nothing;
/// - live keys plus tombstones stay within `limit`: a new key at the limit first drops the oldest
///   tombstone (raising `floor` to its offset), and with none to drop the append is refused with
///   `CacheKeyLimitExceeded` before anything is written;
/// - `removeHistory` empties the table and raises `floor` to the top;
/// - an empty table's floor is the top: publications made before the first key (the namespace
///   turned keyed on a live stream) are not in it, so positions before them cannot catch up.
package struct CacheKeyUpdate: Sendable, Hashable {
    /// The value of the namespace's key tag.
    package var key: String
    /// The publication removes the key (a tombstone) instead of setting it.
    package var removes: Bool
    /// The most entries (live keys and tombstones) the channel's table may hold.
    package var limit: Int

    package init(key: String, removes: Bool, limit: Int) {
        self.key = key
        self.removes = removes
        self.limit = limit
    }
}

/// One key's latest publication, or its tombstone.
package struct KeyedCacheEntry: Sendable, Hashable {
    package var publication: Publication
    package var removed: Bool

    package init(publication: Publication, removed: Bool) {
        self.publication = publication
        self.removed = removed
    }
}

/// A read of a channel's keyed table.
package struct KeyedCacheRead: Sendable, Hashable {
    /// In offset order: without `since`, every live key; with it, every entry (tombstones too)
    /// newer than `since`.
    package var entries: [KeyedCacheEntry]
    package var top: StreamPosition
    /// Changes at or below this offset may be forgotten (a dropped tombstone, a removed history):
    /// a client positioned below it cannot be brought up to date with changes alone.
    package var floor: UInt64

    package init(entries: [KeyedCacheEntry], top: StreamPosition, floor: UInt64) {
        self.entries = entries
        self.top = top
        self.floor = floor
    }
}

/// A new key would take the channel's table past its limit and it holds no tombstone to drop.
package struct CacheKeyLimitExceeded: Error, Sendable, Hashable {
    package var limit: Int

    package init(limit: Int) { self.limit = limit }
}
