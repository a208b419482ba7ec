import StrataCore
import StrataHistory

/// Coalesces identical stream reads: after a mass reconnect, thousands of clients resubscribing to
/// one channel from the same position cost about one store read, not thousands.
///
/// A result is reused only while the channel has had no publication or removal since the read
/// *started* (a per-channel generation, bumped before every broadcast), and for at most `maxAge`
/// (entries may also expire by TTL without a publish). A read that started before a publication was
/// broadcast can never be served after it, so a cached result never lacks a delivered publication.
/// Identical reads in flight at the same time share one store call. Reads of a keyed cache
/// table (docs/keyed-cache.md) are shared the same way: a storm of fresh subscribers to one
/// table costs one table read.
///
/// Only while the node *listens* to the channel (a local subscriber holds its broker
/// subscription) does every publication reach `invalidate`: on Redis a node that is not
/// subscribed hears of none. Reads while not listening are neither shared nor kept, and the
/// channel's reads are dropped when listening starts and when it stops (`Node`), so nothing
/// read before a subscription is served during it or after it.
final class StreamReadCache: Sendable {
    struct Key: Hashable {
        let since: StreamPosition?
        let limit: Int
        let reverse: Bool
        /// A keyed table read (`since` then carries only the offset).
        var keyed = false
    }

    /// What a read returned.
    enum Value: Sendable {
        case stream(HistoryResult)
        case keyed(KeyedCacheRead)
    }

    struct Entry {
        let generation: UInt64
        let storedAt: Int64
        let result: Value
    }

    struct Channel {
        var generation: UInt64 = 0
        var entries: [Key: Entry] = [:]
        var inFlight: [Key: SharedRead<Value>] = [:]
    }

    /// One shard's channels. Channels whose reads all aged out are swept from the shard at most
    /// once per `maxAge`, on the shard's next read: a channel read once (a personal channel, a
    /// client that never comes back) must not keep its entry, and its result, for ever.
    struct Shard {
        var channels: [String: Channel] = [:]
        var sweptAt: Int64 = 0

        mutating func sweep(now: Int64, maxAge: Int64) {
            guard now - sweptAt > maxAge else { return }
            sweptAt = now
            channels = channels.filter { _, c in !c.inFlight.isEmpty || c.entries.values.contains { now - $0.storedAt <= maxAge } }
        }
    }

    private let shards: [Locked<Shard>]
    let maxAgeMillis: Int64

    init(maxAgeMillis: Int64 = 500, shardCount: Int = 64) {
        self.maxAgeMillis = maxAgeMillis
        shards = (0..<shardCount).map { _ in Locked(Shard()) }
    }

    /// Drops every channel whose reads aged out (periodically: `Node.sweep`), so the cache of a
    /// node whose clients left is empty again without waiting for reads of the same shards.
    func sweep(now: Int64) {
        for shard in shards { shard.withLock { $0.sweep(now: now, maxAge: maxAgeMillis) } }
    }

    /// How many channels the cache holds (tests).
    var channelCount: Int { shards.reduce(0) { n, shard in n + shard.withLock { $0.channels.count } } }

    private func shard(_ channel: String) -> Locked<Shard> {
        var h = Hasher()
        h.combine(channel)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    /// The channel changed: every cached read of it is stale. Called before a publication is broadcast.
    func invalidate(_ channel: String) {
        shard(channel).withLock { shard in
            guard shard.channels[channel] != nil else { return }
            shard.channels[channel]?.generation &+= 1
            shard.channels[channel]?.entries.removeAll()
            shard.channels[channel]?.inFlight.removeAll()
        }
    }

    /// Returns the cached or in-flight result for the same read, or runs `read` (once for everyone
    /// asking at the same time).
    /// `listening`: whether the node hears of the channel's publications now; if not, `read`
    /// simply runs.
    func read(
        channel: String, filter: HistoryFilter, now: Int64, listening: Bool = true,
        _ read: @escaping @Sendable () async throws -> HistoryResult
    ) async throws -> HistoryResult {
        guard listening else { return try await read() }
        let key = Key(since: filter.since, limit: filter.limit, reverse: filter.reverse)
        guard case .stream(let result) = try await shared(channel: channel, key: key, now: now, { .stream(try await read()) }) else {
            preconditionFailure("a stream read key holds a stream result")
        }
        return result
    }

    /// The same for a keyed cache table read from `since` (nil: the live keys).
    func readKeyed(
        channel: String, since: UInt64?, now: Int64, listening: Bool = true, _ read: @escaping @Sendable () async throws -> KeyedCacheRead
    ) async throws -> KeyedCacheRead {
        guard listening else { return try await read() }
        let key = Key(since: since.map { StreamPosition(offset: $0, epoch: "") }, limit: -1, reverse: false, keyed: true)
        guard case .keyed(let result) = try await shared(channel: channel, key: key, now: now, { .keyed(try await read()) }) else {
            preconditionFailure("a keyed read key holds a keyed result")
        }
        return result
    }

    private func shared(
        channel: String, key: Key, now: Int64, _ read: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let lock = shard(channel)
        enum Plan {
            case cached(Value)
            case join(SharedRead<Value>)
            case run(SharedRead<Value>, UInt64)
        }
        let plan = lock.withLock { shard -> Plan in
            shard.sweep(now: now, maxAge: maxAgeMillis)
            var c = shard.channels.removeValue(forKey: channel) ?? Channel()
            defer { shard.channels[channel] = c }
            if let e = c.entries[key], e.generation == c.generation, now - e.storedAt <= maxAgeMillis { return .cached(e.result) }
            if let shared = c.inFlight[key] { return .join(shared) }
            let shared = SharedRead<Value>()
            c.inFlight[key] = shared
            c.entries = c.entries.filter { now - $0.value.storedAt <= maxAgeMillis }
            return .run(shared, c.generation)
        }
        switch plan {
        case .cached(let r):
            return r
        case .join(let shared):
            return try await shared.wait()
        case .run(let shared, let generation):
            // This reader runs the read in its own task (on its connection's loop) and hands the
            // result to those who joined meanwhile.
            let result: Value
            do {
                result = try await read()
            } catch {
                lock.withLock { shard in _ = shard.channels[channel]?.inFlight.removeValue(forKey: key) }
                shared.finish(.failure(error))
                throw error
            }
            shared.finish(.success(result))
            lock.withLock { shard in
                guard var c = shard.channels.removeValue(forKey: channel) else { return }
                c.inFlight.removeValue(forKey: key)
                if c.generation == generation { c.entries[key] = Entry(generation: generation, storedAt: now, result: result) }
                if !c.entries.isEmpty || !c.inFlight.isEmpty { shard.channels[channel] = c }
            }
            return result
        }
    }
}
