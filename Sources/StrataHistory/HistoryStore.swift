import StrataCore

/// How one publish touches the stream (docs/protocol/history.md §2).
package struct AppendOptions: Sendable {
    package var retention: StreamRetention
    /// Repeated keys within `idempotentResultTTLSeconds` return the first result and append nothing.
    package var idempotencyKey: String?
    package var idempotentResultTTLSeconds: Int64
    /// Fetch the previous publication as the delta base, atomically with the append.
    package var useDelta: Bool
    /// Version suppression: a publish with version ≤ the stored one (same version epoch) is dropped.
    package var version: UInt64
    package var versionEpoch: String
    /// Keyed cache channels: the key this publication sets or removes (KeyedCache.swift).
    package var cacheKey: CacheKeyUpdate?

    package init(
        retention: StreamRetention, idempotencyKey: String? = nil, idempotentResultTTLSeconds: Int64 = 300,
        useDelta: Bool = false, version: UInt64 = 0, versionEpoch: String = "", cacheKey: CacheKeyUpdate? = nil
    ) {
        self.cacheKey = cacheKey
        self.retention = retention
        self.idempotencyKey = idempotencyKey
        self.idempotentResultTTLSeconds = idempotentResultTTLSeconds
        self.useDelta = useDelta
        self.version = version
        self.versionEpoch = versionEpoch
    }
}

/// What an append did.
package struct AppendResult: Sendable {
    /// The publication's position (for a suppressed publish: the earlier or current position).
    package var position: StreamPosition
    /// The publication with its offset set.
    package var publication: Publication
    /// The publication before it in the stream, when `useDelta` asked for it and one exists.
    package var previous: Publication?
    /// Nothing was appended (idempotent repeat or version suppression): do not broadcast.
    package var suppressed: Bool

    package init(position: StreamPosition, publication: Publication, previous: Publication? = nil, suppressed: Bool = false) {
        self.position = position
        self.publication = publication
        self.previous = previous
        self.suppressed = suppressed
    }
}

/// Where channel streams live: memory, LMDB or Redis.
///
/// Contract (checked by the shared contract suite):
/// - Offsets start at 1 under a fresh epoch and grow by exactly 1 per append; trimming and TTL
///   expiry of entries never reset the top offset or the epoch.
/// - Reads create the stream meta (top 0, new epoch) when it does not exist.
/// - `history_ttl` expires the whole entry set `ttl` seconds after the last append; meta survives
///   until `history_meta_ttl` after the last append or read, then the next access gets a new epoch.
/// - `removeHistory` drops the entries and keeps top and epoch.
/// - `onCommit` runs exactly once per non-suppressed append, in offset order per channel, before
///   `append` returns; implementations serialise it with the append so broadcast order equals
///   offset order (the ordering guarantee positioned subscribers rely on). It must not block.
package protocol HistoryStore: Sendable {
    func append(
        channel: String, publication: Publication, options: AppendOptions,
        onCommit: @escaping @Sendable (AppendResult) -> Void
    ) async throws -> AppendResult

    /// Reads publications by `filter` and returns them with the current top position.
    /// The epoch of `filter.since` is not compared here: the node does that (error 112).
    func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult

    /// Reads the channel's keyed table (KeyedCache.swift): every live key (`since` nil) or every
    /// entry newer than `since`, in offset order. Creates the stream meta like `history`.
    func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead

    func removeHistory(channel: String) async throws

    /// Drops expired entry sets, metas and idempotency results; called periodically, off the publish path.
    func sweepExpired() async
}
