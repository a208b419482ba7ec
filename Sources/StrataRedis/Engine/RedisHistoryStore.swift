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
    /// What this node has seen of each stream: a stream found behind it lost its tail.
    let watermarks = StreamWatermarks()
    /// Called when a script changed a channel's epoch because its stream had lost its tail.
    let lostTail = Locked<(@Sendable (String) -> Void)?>(nil)

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
        ] + seenArguments(channel)
        // Without an idempotency key the script never touches KEYS[3]; it still gets a name in
        // the channel's slot, as a cluster refuses a script whose keys span slots.
        var scriptKeys = [keys.stream(channel), keys.meta(channel), resultKey ?? keys.result(channel, "")]
        if options.cacheKey != nil { scriptKeys += keys.keyed(channel) }
        let decompressors = self.decompressors
        let cacheKeyLimit = options.cacheKey?.limit ?? 0
        // A full keyed table is a result here (the shards' calls throw only Redis errors).
        let outcome = try await shards.run(.historyAdd, channel: channel, keys: scriptKeys, arguments: arguments, ordered: onCommit != nil) {
            reply -> Result<(AppendResult, Bool), CacheKeyLimitExceeded> in
            if Self.refusedKey(reply) { return .failure(CacheKeyLimitExceeded(limit: cacheKeyLimit)) }
            let result = try Self.appendResult(reply, publication: publication, decompressors: decompressors)
            if !result.suppressed { onCommit?(result) }
            return .success((result, Self.rewound(reply, at: 5)))
        }
        let (result, rewound) = try outcome.get()
        noteRead(channel, result.position, rewound: rewound)
        return result
    }

    /// The stored record; a compression context is taken only for payloads that may be compressed.
    private func encode(_ publication: Publication) -> [UInt8] {
        guard compressMinSize > 0, publication.data.count >= compressMinSize else {
            return PublicationRecord.encode(publication, compressor: nil, minSize: 0)
        }
        return compressors.withCompressor { PublicationRecord.encode(publication, compressor: $0, minSize: compressMinSize) }
    }

    /// The node's newest position of the channel for the scripts' lost-tail check ('' '' for none).
    private func seenArguments(_ channel: String) -> [any RESPArgument] {
        guard let seen = watermarks.seen(channel) else { return ["", ""] }
        return [seen.epoch, String(seen.offset)]
    }

    /// Whether a script's reply says it changed the epoch of a stream that had lost its tail.
    static func rewound(_ reply: RESPValue, at index: Int) -> Bool {
        guard let fields = reply.elements, fields.count > index else { return false }
        return fields[index].string == "1"
    }

    /// Remembers a position Redis answered with; tells the broker when the answer came with a
    /// new epoch over a stream that had lost its tail, so live subscribers recover.
    private func noteRead(_ channel: String, _ position: StreamPosition, rewound: Bool) {
        if position.offset > 0 { watermarks.saw(channel, position) }
        if rewound { lostTail.withLock { $0 }?(channel) }
    }

    /// `{offset, epoch, from cache, suppressed, previous record[, lost tail]}` → the append's result.
    /// history_add's answer when a new key found the keyed table full: nothing was appended.
    static func refusedKey(_ reply: RESPValue) -> Bool {
        guard let fields = reply.elements, fields.count == 5 else { return false }
        return fields[3].string == "limit"
    }

    static func appendResult(_ reply: RESPValue, publication: Publication, decompressors: ZstdDecompressorPool) throws -> AppendResult {
        guard let fields = reply.elements, fields.count >= 5, let offset = fields[0].int, offset >= 0,
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
        ] + seenArguments(channel)
        let reply = try await shards.run(
            .historyGet, channel: channel, keys: [keys.stream(channel), keys.meta(channel)], arguments: arguments, ordered: false)
        guard let fields = reply.elements, fields.count >= 3, let top = fields[0].int, top >= 0, let epoch = fields[1].string,
            let entries = fields[2].elements
        else { throw RedisError(.unexpectedReply, "history_get returned \(reply)") }
        noteRead(channel, StreamPosition(offset: UInt64(top), epoch: epoch), rewound: Self.rewound(reply, at: 3))
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

    /// Gives the channel's stream a new epoch if it still has `epoch` (entries and top stay):
    /// PUB/SUB brought an offset of that epoch that was not past one it brought before, so the
    /// stream lost its tail after this node heard of it. Any later publish in that epoch may
    /// already have moved the top past what the node saw; the epoch changes all the same.
    /// Returns whether this call changed it (another node may have been first).
    @discardableResult
    func rewind(channel: String, epoch: String, metaTTLSeconds: Int64) async throws -> Bool {
        let keys = shards.keys
        // A seen offset no stream reaches makes `rewound` true whenever the epoch matches.
        let arguments: [any RESPArgument] = ["0", "", 0, "0", metaTTLSeconds, Epoch.generate(), nowMillisArgument, epoch, "1e18"]
        let reply = try await shards.run(
            .historyGet, channel: channel, keys: [keys.stream(channel), keys.meta(channel)], arguments: arguments, ordered: false)
        guard let fields = reply.elements, fields.count >= 3, let top = fields[0].int, top >= 0, let newEpoch = fields[1].string
        else { throw RedisError(.unexpectedReply, "history_get returned \(reply)") }
        if top > 0 { watermarks.saw(channel, StreamPosition(offset: UInt64(top), epoch: newEpoch)) }
        return Self.rewound(reply, at: 3)
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        let keys = shards.keys
        let arguments: [any RESPArgument] =
            [since.map { String($0) } ?? "", metaTTLSeconds, Epoch.generate(), nowMillisArgument] + seenArguments(channel)
        let reply = try await shards.run(
            .keyedGet, channel: channel, keys: [keys.stream(channel), keys.meta(channel)] + keys.keyed(channel), arguments: arguments,
            ordered: false)
        guard let fields = reply.elements, fields.count >= 4, let top = fields[0].int, top >= 0, let epoch = fields[1].string,
            let floor = fields[2].int, floor >= 0, let flat = fields[3].elements, flat.count % 2 == 0
        else { throw RedisError(.unexpectedReply, "keyed_get returned \(reply)") }
        noteRead(channel, StreamPosition(offset: UInt64(top), epoch: epoch), rewound: Self.rewound(reply, at: 4))
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
