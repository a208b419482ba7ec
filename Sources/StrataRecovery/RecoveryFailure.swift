import StrataCore

/// Why a subscription that asked to recover was not recovered (`recovered: false`), so that an
/// operator (metrics, the log, `strata history why`) and a client (`recovery_failure` in the
/// subscribe result, `docs/recovery.md`) can tell a lost epoch from history that was too short.
package enum RecoveryFailure: String, Sendable, CaseIterable {
    /// The stream was created anew (history removed, or lost by a Redis without persistence):
    /// the client's epoch is not the stream's.
    case epochChanged = "epoch_changed"
    /// The client claims an offset beyond the stream's top in the same epoch.
    case positionAhead = "position_ahead"
    /// The stream retains nothing any more (history TTL expired, or nothing was ever kept) while
    /// the client missed publications.
    case historyExpired = "history_expired"
    /// The oldest retained publication is newer than the one the client needs next: the missed
    /// ones were trimmed by `history_size` or `history_ttl`.
    case olderThanHistory = "older_than_history"
    /// More publications were missed than `client.recovery_max_publication_limit` lets a
    /// recovery carry.
    case tooManyMissed = "too_many_missed"
    /// Cache mode: the channel's latest value is no longer retained.
    case cacheValueGone = "cache_value_gone"
    /// Cache mode: the channel has no value (none published, or none matching the tags filter).
    case noCacheValue = "no_cache_value"
    /// Keyed cache: changes after the client's position were forgotten (tombstones dropped at
    /// `cache_key_limit`, or the history removed), so its table cannot be brought up to date.
    case keyedChangesForgotten = "keyed_changes_forgotten"
    /// The history store could not be read (the subscribe failed with an internal error).
    case storeUnavailable = "store_unavailable"

    /// The reason in a sentence, for people (`strata history why`).
    package var explanation: String {
        switch self {
        case .epochChanged: "the stream was created anew since (another epoch): its publications are not the ones the client followed"
        case .positionAhead: "the client's offset is beyond the stream's newest: the stream lost publications (a restore from an older copy?)"
        case .historyExpired: "the stream retains no publications any more (history_ttl passed), while the client missed some"
        case .olderThanHistory: "the publications the client missed were trimmed (history_size or history_ttl)"
        case .tooManyMissed: "the client missed more publications than client.recovery_max_publication_limit lets a recovery carry"
        case .cacheValueGone: "the channel's latest value is no longer retained"
        case .noCacheValue: "the channel has no value (none published, or none matching the tags filter)"
        case .keyedChangesForgotten:
            "the keyed table forgot changes made after the client's position (tombstones dropped at cache_key_limit, or history_remove)"
        case .storeUnavailable: "the history store could not be read"
        }
    }

    /// Why a stream-mode recovery from `since` failed, given what the store returned for it
    /// (read with `since`, limited). Call it only when `StreamRecovery.isRecovered` said no.
    package static func stream(since: StreamPosition, read: HistoryResult) -> RecoveryFailure {
        let top = read.top
        if !since.epoch.isEmpty, since.epoch != top.epoch { return .epochChanged }
        if since.offset > top.offset { return .positionAhead }
        guard let first = read.publications.first, let last = read.publications.last else { return .historyExpired }
        if first.offset > since.offset + 1 { return .olderThanHistory }
        if last.offset < top.offset { return .tooManyMissed }
        // isRecovered said no with neither a hole nor a cut: the read itself was inconsistent.
        return .olderThanHistory
    }

    /// Why a cache-mode recovery failed: `latest` is the value the store returned (newest
    /// retained, or newest matching the filter).
    package static func cache(latest: Publication?, top: StreamPosition) -> RecoveryFailure {
        guard let latest else { return .noCacheValue }
        return latest.offset == top.offset ? .noCacheValue : .cacheValueGone
    }

    /// Why a keyed cache recovery from `since` failed (`CacheRecovery.decideKeyed` said no).
    package static func keyed(since: StreamPosition, top: StreamPosition, floor: UInt64) -> RecoveryFailure {
        if since.epoch != top.epoch { return .epochChanged }
        if since.offset > top.offset { return .positionAhead }
        return .keyedChangesForgotten
    }
}
