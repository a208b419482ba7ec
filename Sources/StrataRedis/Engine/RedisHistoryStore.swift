import StrataCompression
import StrataCore
import StrataHistory
import StrataRecordFormat

/// Channel streams in Redis (docs/protocol/history.md §4), for several nodes on one Redis.
///
/// Every operation is one Lua script on the channel's shard (`Lua/history_*.lua`), so append,
/// trim, meta, idempotency, version and the PUB/SUB message are atomic, as the LMDB store's single
/// write transaction is. Publications are stored as `PublicationRecord`s (zstd from
/// `compressMinSize` bytes), the offset in the entry ID.
///
/// Time: Redis's own EXPIRE on each key does all expiry, one clock for every node. A store made
/// with a `clock` passes that clock's time instead, and the scripts then keep and check expiry
/// instants of their own (tests drive TTLs with a `ManualClock`, which Redis's timers cannot follow).
package final class RedisHistoryStore: HistoryStore {
    package let shards: RedisShards
    private let clock: (any WallClock)?
    private let compressMinSize: Int
    private let compressors: ZstdCompressorPool
    let decompressors = ZstdDecompressorPool()

    package init(shards: RedisShards, clock: (any WallClock)? = nil, compressMinSize: Int = 512, compressionLevel: Int32 = 3) {
        self.shards = shards
        self.clock = clock
        self.compressMinSize = compressMinSize
        self.compressors = ZstdCompressorPool(level: compressionLevel)
    }

    /// `now` for the scripts: "" leaves time to Redis.
    var nowMillisArgument: String { clock.map { String($0.nowMillis()) } ?? "" }
    var nowSecondsArgument: String { clock.map { String($0.nowSeconds()) } ?? "" }

    package func append(
        channel: String, publication: Publication, options: AppendOptions,
        onCommit: @escaping @Sendable (AppendResult) -> Void
    ) async throws -> AppendResult {
        try await append(channel: channel, publication: publication, options: options, publishTo: nil, onCommit: onCommit)
    }

    /// The append, optionally publishing the message for other nodes in the same script
    /// (`publishTo`: the channel's PUB/SUB name). With an `onCommit`, the append goes on the
    /// channel's connection, so `onCommit` runs in reply order, which is offset order. Without
    /// one (the broker's publish: nodes hear of it through PUB/SUB), the caller's loop is used.
    func append(
        channel: String, publication: Publication, options: AppendOptions, publishTo: String?,
        onCommit: (@Sendable (AppendResult) -> Void)?
    ) async throws -> AppendResult {
        let record = encode(publication)
        let retention = options.retention
        let keys = shards.keys
        let resultKey = options.idempotencyKey.map { keys.result(channel, $0) }
        let arguments: [any RESPArgument] = [
            record, retention.keepsHistory ? retention.size : 0, retention.ttlSeconds, publishTo ?? "",
            retention.metaTTLSeconds, Epoch.generate(), nowMillisArgument,
            resultKey == nil ? "" : String(options.idempotentResultTTLSeconds), options.useDelta ? "1" : "0",
            options.version, options.versionEpoch, options.cacheKey?.key ?? "", options.cacheKey?.removes == true ? "1" : "0",
            options.cacheKey?.limit ?? 0,
        ]
        var scriptKeys = [keys.stream(channel), keys.meta(channel), resultKey ?? ""]
        if options.cacheKey != nil { scriptKeys += keys.keyed(channel) }
        let decompressors = self.decompressors
        let cacheKeyLimit = options.cacheKey?.limit ?? 0
        // A full keyed table is a result here (the shards' calls throw only Redis errors).
        let outcome = try await shards.run(.historyAdd, channel: channel, keys: scriptKeys, arguments: arguments, ordered: onCommit != nil) {
            reply -> Result<AppendResult, CacheKeyLimitExceeded> in
            if Self.refusedKey(reply) { return .failure(CacheKeyLimitExceeded(limit: cacheKeyLimit)) }
            let result = try Self.appendResult(reply, publication: publication, decompressors: decompressors)
            if !result.suppressed { onCommit?(result) }
            return .success(result)
        }
        return try outcome.get()
    }

    /// The stored record; a compression context is taken only for payloads that may be compressed.
    private func encode(_ publication: Publication) -> [UInt8] {
        guard compressMinSize > 0, publication.data.count >= compressMinSize else {
            return PublicationRecord.encode(publication, compressor: nil, minSize: 0)
        }
        return compressors.withCompressor { PublicationRecord.encode(publication, compressor: $0, minSize: compressMinSize) }
    }

    /// `{offset, epoch, from cache, suppressed, previous record}` → the append's result.
    /// history_add's answer when a new key found the keyed table full: nothing was appended.
    static func refusedKey(_ reply: RESPValue) -> Bool {
        guard let fields = reply.elements, fields.count == 5 else { return false }
        return fields[3].string == "limit"
    }

    static func appendResult(_ reply: RESPValue, publication: Publication, decompressors: ZstdDecompressorPool) throws -> AppendResult {
        guard let fields = reply.elements, fields.count == 5, let offset = fields[0].int, offset >= 0,
            let epoch = fields[1].string, let fromCache = fields[2].string, let suppressed = fields[3].string,
            let previousRecord = fields[4].bytes
        else { throw RedisError(.unexpectedReply, "history_add returned \(reply)") }
        let position = StreamPosition(offset: UInt64(offset), epoch: epoch)
        if fromCache == "1" || suppressed == "1" {
            return AppendResult(position: position, publication: publication, suppressed: true)
        }
        var stored = publication
        stored.offset = position.offset
        let previous =
            previousRecord.isEmpty || offset < 2
            ? nil : try PublicationRecord.decode(previousRecord, offset: position.offset - 1, decompressors: decompressors)
        return AppendResult(position: position, publication: stored, previous: previous)
    }

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        let keys = shards.keys
        let arguments: [any RESPArgument] = [
            filter.limit != 0 ? "1" : "0", filter.since.map { String($0.offset) } ?? "", filter.limit, filter.reverse ? "1" : "0",
            metaTTLSeconds, Epoch.generate(), nowMillisArgument,
        ]
        let reply = try await shards.run(
            .historyGet, channel: channel, keys: [keys.stream(channel), keys.meta(channel)], arguments: arguments, ordered: false)
        guard let fields = reply.elements, fields.count == 3, let top = fields[0].int, top >= 0, let epoch = fields[1].string,
            let entries = fields[2].elements
        else { throw RedisError(.unexpectedReply, "history_get returned \(reply)") }
        var publications: [Publication] = []
        publications.reserveCapacity(entries.count)
        for entry in entries {
            guard let parts = entry.elements, parts.count == 2, let id = parts[0].string, let offset = UInt64(id.prefix { $0 != "-" }),
                let values = parts[1].elements, values.count == 2, let record = values[1].bytes
            else { throw RedisError(.unexpectedReply, "stream entry \(entry)") }
            publications.append(try PublicationRecord.decode(record, offset: offset, decompressors: decompressors))
        }
        return HistoryResult(publications: publications, top: StreamPosition(offset: UInt64(top), epoch: epoch))
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        let keys = shards.keys
        let arguments: [any RESPArgument] = [since.map { String($0) } ?? "", metaTTLSeconds, Epoch.generate(), nowMillisArgument]
        let reply = try await shards.run(
            .keyedGet, channel: channel, keys: [keys.stream(channel), keys.meta(channel)] + keys.keyed(channel), arguments: arguments,
            ordered: false)
        guard let fields = reply.elements, fields.count == 4, let top = fields[0].int, top >= 0, let epoch = fields[1].string,
            let floor = fields[2].int, floor >= 0, let flat = fields[3].elements, flat.count % 2 == 0
        else { throw RedisError(.unexpectedReply, "keyed_get returned \(reply)") }
        var entries: [KeyedCacheEntry] = []
        entries.reserveCapacity(flat.count / 2)
        for i in stride(from: 0, to: flat.count, by: 2) {
            guard let offsetText = flat[i].string, let offset = UInt64(offsetText), let value = flat[i + 1].bytes, let kind = value.first,
                kind == UInt8(ascii: "v") || kind == UInt8(ascii: "r")
            else { throw RedisError(.unexpectedReply, "keyed entry \(flat[i]) \(flat[i + 1])") }
            let publication = try PublicationRecord.decode(Array(value.dropFirst()), offset: offset, decompressors: decompressors)
            entries.append(KeyedCacheEntry(publication: publication, removed: kind == UInt8(ascii: "r")))
        }
        return KeyedCacheRead(entries: entries, top: StreamPosition(offset: UInt64(top), epoch: epoch), floor: UInt64(floor))
    }

    package func removeHistory(channel: String) async throws {
        let keys = shards.keys
        _ = try await shards.run(
            .historyRemove, channel: channel, keys: [keys.stream(channel), keys.meta(channel)] + keys.keyed(channel), arguments: [])
    }

    /// Nothing to do: Redis expires keys itself, and the scripts treat expired data as gone.
    package func sweepExpired() async {}
}
