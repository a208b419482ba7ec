import StrataCore

/// Coalesces identical stream reads: after a mass reconnect, thousands of clients resubscribing to
/// one channel from the same position cost about one store read, not thousands.
///
/// A result is reused only while the channel has had no publication or removal since the read
/// *started* (a per-channel generation, bumped before every broadcast), and for at most `maxAge`
/// (entries may also expire by TTL without a publish). A read that started before a publication was
/// broadcast can never be served after it, so a cached result never lacks a delivered publication.
/// Identical reads in flight at the same time share one store call.
final class StreamReadCache: Sendable {
    struct Key: Hashable {
        let since: StreamPosition?
        let limit: Int
        let reverse: Bool
    }

    struct Entry {
        let generation: UInt64
        let storedAt: Int64
        let result: HistoryResult
    }

    struct Channel {
        var generation: UInt64 = 0
        var entries: [Key: Entry] = [:]
        var inFlight: [Key: Task<HistoryResult, any Error>] = [:]
    }

    private let shards: [Locked<[String: Channel]>]
    let maxAgeMillis: Int64

    init(maxAgeMillis: Int64 = 500, shardCount: Int = 64) {
        self.maxAgeMillis = maxAgeMillis
        shards = (0..<shardCount).map { _ in Locked([:]) }
    }

    private func shard(_ channel: String) -> Locked<[String: Channel]> {
        var h = Hasher()
        h.combine(channel)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    /// The channel changed: every cached read of it is stale. Called before a publication is broadcast.
    func invalidate(_ channel: String) {
        shard(channel).withLock { map in
            guard var c = map[channel] else { return }
            c.generation &+= 1
            c.entries.removeAll()
            c.inFlight.removeAll()
            map[channel] = c
        }
    }

    /// Returns the cached or in-flight result for the same read, or runs `read` (once for everyone
    /// asking at the same time).
    func read(
        channel: String, filter: HistoryFilter, now: Int64, _ read: @escaping @Sendable () async throws -> HistoryResult
    ) async throws -> HistoryResult {
        let key = Key(since: filter.since, limit: filter.limit, reverse: filter.reverse)
        let lock = shard(channel)
        enum Plan {
            case cached(HistoryResult)
            case join(Task<HistoryResult, any Error>)
            case run(Task<HistoryResult, any Error>, UInt64)
        }
        let plan = lock.withLock { map -> Plan in
            var c = map[channel] ?? Channel()
            if let e = c.entries[key], e.generation == c.generation, now - e.storedAt <= maxAgeMillis { return .cached(e.result) }
            if let t = c.inFlight[key] { return .join(t) }
            let task = Task { try await read() }
            c.inFlight[key] = task
            // Keep the map small: drop channels whose entries all aged out.
            c.entries = c.entries.filter { now - $0.value.storedAt <= maxAgeMillis }
            map[channel] = c
            return .run(task, c.generation)
        }
        switch plan {
        case .cached(let r):
            return r
        case .join(let t):
            return try await t.value
        case .run(let t, let generation):
            let result: HistoryResult
            do {
                result = try await t.value
            } catch {
                lock.withLock { map in _ = map[channel]?.inFlight.removeValue(forKey: key) }
                throw error
            }
            lock.withLock { map in
                guard var c = map[channel] else { return }
                c.inFlight.removeValue(forKey: key)
                if c.generation == generation { c.entries[key] = Entry(generation: generation, storedAt: now, result: result) }
                if c.entries.isEmpty && c.inFlight.isEmpty {
                    map[channel] = nil
                } else {
                    map[channel] = c
                }
            }
            return result
        }
    }
}
