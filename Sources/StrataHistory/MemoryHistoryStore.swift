import StrataCore
import Synchronization

/// Streams in process memory, lost on restart (Centrifugo's memory engine semantics).
///
/// Channels are spread over shards, each behind its own lock, so publishes to different channels
/// rarely contend. Every operation on a channel runs under its shard's lock, which is what makes
/// append + `onCommit` atomic and ordered.
package final class MemoryHistoryStore: HistoryStore {
    struct IdempotentResult {
        var position: StreamPosition
        var expireAt: Int64
    }

    struct Shard {
        var streams: [String: MemoryStream] = [:]
        var results: [String: IdempotentResult] = [:]
    }

    private let shards: [Locked<Shard>]
    private let clock: any WallClock
    private let sweepMetrics = SweepMetrics(store: "memory")

    package init(clock: any WallClock = SystemClock(), shardCount: Int = 64) {
        self.clock = clock
        self.shards = (0..<max(1, shardCount)).map { _ in Locked(Shard()) }
    }

    private func shard(for channel: String) -> Locked<Shard> {
        var h = Hasher()
        h.combine(channel)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    /// Takes the live stream out of the shard, creating it (new epoch) or replacing an expired
    /// one; the caller puts it back. Taken out, not copied: a copy left in the dictionary would
    /// share the entries' storage, and the next append would copy all of them (copy-on-write),
    /// making every publish cost the whole retained history.
    private static func liveStream(_ shard: inout Shard, _ channel: String, now: Int64) -> MemoryStream {
        if var s = shard.streams.removeValue(forKey: channel), s.metaExpireAt == 0 || now < s.metaExpireAt {
            s.expireEntriesIfDue(now: now)
            return s
        }
        return MemoryStream(epoch: Epoch.generate())
    }

    package func append(
        channel: String, publication: Publication, options: AppendOptions,
        onCommit: @escaping @Sendable (AppendResult) -> Void
    ) async throws -> AppendResult {
        let now = clock.nowMillis()
        let retention = options.retention
        return try shard(for: channel).withLock { shard throws(CacheKeyLimitExceeded) in
            let resultKey = options.idempotencyKey.map { channel + "\u{0}" + $0 }
            if let resultKey, let cached = shard.results[resultKey], now < cached.expireAt {
                return AppendResult(position: cached.position, publication: publication, suppressed: true)
            }
            guard retention.keepsHistory else {
                // Pure PUB/SUB: no offset, no epoch, but still ordered with other publishes.
                let result = AppendResult(position: StreamPosition(offset: 0, epoch: ""), publication: publication)
                onCommit(result)
                if let resultKey {
                    shard.results[resultKey] = IdempotentResult(
                        position: result.position, expireAt: now + options.idempotentResultTTLSeconds * 1000)
                }
                return result
            }
            var stream = Self.liveStream(&shard, channel, now: now)
            // Back in the shard however this ends (a full keyed cache throws).
            defer { shard.streams[channel] = stream }
            if options.version > 0 {
                let sameEpoch = options.versionEpoch.isEmpty || options.versionEpoch == stream.versionEpoch
                if sameEpoch && stream.version > 0 && options.version <= stream.version {
                    return AppendResult(
                        position: StreamPosition(offset: stream.top, epoch: stream.epoch), publication: publication, suppressed: true)
                }
                stream.version = options.version
                stream.versionEpoch = options.versionEpoch
            }
            let storesKey = try options.cacheKey.map { update throws(CacheKeyLimitExceeded) in try stream.admitKey(update) } ?? false
            let previous = options.useDelta ? stream.entries.last : nil
            let stored = stream.append(publication, size: retention.size)
            if storesKey, let update = options.cacheKey {
                stream.keyed[update.key] = KeyedCacheEntry(publication: stored, removed: update.removes)
            }
            stream.entriesExpireAt = now + retention.ttlSeconds * 1000
            stream.metaExpireAt = retention.metaTTLSeconds > 0 ? now + retention.metaTTLSeconds * 1000 : 0
            let result = AppendResult(
                position: StreamPosition(offset: stored.offset, epoch: stream.epoch), publication: stored, previous: previous)
            onCommit(result)
            if let resultKey {
                shard.results[resultKey] = IdempotentResult(
                    position: result.position, expireAt: now + options.idempotentResultTTLSeconds * 1000)
            }
            return result
        }
    }

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        let now = clock.nowMillis()
        return shard(for: channel).withLock { shard in
            var stream = Self.liveStream(&shard, channel, now: now)
            if metaTTLSeconds > 0 { stream.metaExpireAt = now + metaTTLSeconds * 1000 }
            shard.streams[channel] = stream
            return HistoryResult(publications: stream.read(filter), top: StreamPosition(offset: stream.top, epoch: stream.epoch))
        }
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        let now = clock.nowMillis()
        return shard(for: channel).withLock { shard in
            var stream = Self.liveStream(&shard, channel, now: now)
            if metaTTLSeconds > 0 { stream.metaExpireAt = now + metaTTLSeconds * 1000 }
            shard.streams[channel] = stream
            return KeyedCacheRead(
                entries: stream.readKeyed(since: since), top: StreamPosition(offset: stream.top, epoch: stream.epoch),
                floor: stream.floorOfKeyed)
        }
    }

    package func removeHistory(channel: String) async throws {
        shard(for: channel).withLock { shard in
            guard var stream = shard.streams[channel] else { return }
            stream.entries.removeAll()
            stream.entriesExpireAt = 0
            stream.keyed.removeAll()
            stream.keyedFloor = stream.top
            shard.streams[channel] = stream
        }
    }

    package func sweepExpired() async {
        let now = clock.nowMillis()
        var removed = 0
        for shard in shards {
            removed += shard.withLock { shard -> Int in
                var removed = 0
                for (channel, var stream) in shard.streams {
                    if stream.metaExpireAt > 0, now >= stream.metaExpireAt {
                        removed += 1 + stream.entries.count
                        shard.streams[channel] = nil
                    } else if stream.entriesExpireAt > 0, now >= stream.entriesExpireAt {
                        removed += stream.entries.count
                        stream.expireEntriesIfDue(now: now)
                        shard.streams[channel] = stream
                    }
                }
                let before = shard.results.count
                shard.results = shard.results.filter { now < $0.value.expireAt }
                return removed + before - shard.results.count
            }
        }
        sweepMetrics.record(batchOf: removed)
    }
}
