import CLMDB
import StrataCompression
import StrataCore
import StrataHistory

/// Options of the embedded store (config `engine.lmdb.*`).
package struct LMDBStoreOptions: Sendable {
    package var path: String
    /// Initial map size; the map doubles whenever it is full.
    package var mapSize: Int
    /// false: fsync on every commit (group commit); true: the OS flushes, Strata syncs every second.
    package var relaxedDurability: Bool
    /// Payloads of at least this many bytes are stored zstd-compressed (0: never).
    package var compressMinSize: Int
    package var compressionLevel: Int32
    /// Deletions per sweep batch, and the pause between batches: expiry shares the writer's
    /// transactions with publishes, so it must only ever add a sliver to one of them.
    /// (64 deletions add ≈ 0.3 ms to a transaction, and their dirty pages to the next fsync; with
    /// 5 ms pauses a sweep removes ~12k entries/s, a million in under 2 minutes. Reads treat expired
    /// entries as gone at once, so only disk space waits for the sweeper.)
    package var sweepBatch: Int
    package var sweepPause: Duration
    /// OS readahead on the map; turn off for stores much larger than memory (`engine.lmdb.readahead`).
    package var readahead = true

    package init(
        path: String, mapSize: Int = 256 << 20, relaxedDurability: Bool = false, compressMinSize: Int = 512,
        compressionLevel: Int32 = 3, sweepBatch: Int = 64, sweepPause: Duration = .milliseconds(5)
    ) {
        self.path = path
        self.mapSize = mapSize
        self.relaxedDurability = relaxedDurability
        self.compressMinSize = compressMinSize
        self.compressionLevel = compressionLevel
        self.sweepBatch = sweepBatch
        self.sweepPause = sweepPause
    }
}

/// Channel streams on disk, in LMDB: the embedded, durable default (storage/README.md).
///
/// Writes (appends, removals, sweeps) run as ops on one writer thread with group commit; reads run
/// on the caller's thread in read-only transactions and never wait for the writer, except for the
/// rare read that must create or refresh a stream's meta.
package final class LMDBHistoryStore: HistoryStore {
    let env: LMDBEnvironment
    let writer: LMDBWriter
    let sweepMetrics = SweepMetrics(store: "lmdb")
    let clock: any WallClock
    let options: LMDBStoreOptions
    /// Used on the writer thread only.
    let compressor: UnsafeTransferBox<ZstdCompressor>
    let decompressors = ZstdDecompressorPool()

    package init(options: LMDBStoreOptions, clock: any WallClock = SystemClock()) throws {
        self.options = options
        self.clock = clock
        env = try LMDBEnvironment(
            path: options.path, mapSize: options.mapSize, relaxedDurability: options.relaxedDurability, readahead: options.readahead)
        writer = LMDBWriter(env: env)
        compressor = UnsafeTransferBox(ZstdCompressor(level: options.compressionLevel))
    }

    /// Finishes what is queued, stops the writer and closes the environment (the directory can then
    /// be opened again in this process).
    package func close() {
        writer.stop()
        env.close()
    }

    deinit { close() }

    package var path: String { options.path }
    package var mapSize: Int { env.mapSize }

    // MARK: Writer plumbing

    final class Box<T>: @unchecked Sendable {
        var value: T?
    }

    /// Runs `apply` in the writer's next transaction and returns its result after the commit.
    func write<T: Sendable>(
        durable: Bool = true, _ apply: @escaping (LMDBTransaction) throws -> T, afterCommit: @escaping @Sendable (T) -> Void = { _ in }
    ) async throws -> T {
        let box = Box<T>()
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            writer.submit(
                WriteOp(
                    needsDurability: durable,
                    apply: { txn in box.value = try apply(txn) },
                    finish: { error in
                        if let error {
                            cont.resume(throwing: error)
                        } else if let value = box.value {
                            afterCommit(value)
                            cont.resume(returning: value)
                        } else {
                            cont.resume(throwing: LMDBStoreError(path: self.options.path, reason: "write produced no result"))
                        }
                    }))
        }
    }

    // MARK: HistoryStore

    package func append(
        channel: String, publication: Publication, options: AppendOptions,
        onCommit: @escaping @Sendable (AppendResult) -> Void
    ) async throws -> AppendResult {
        let now = clock.nowMillis()
        if !options.retention.keepsHistory && options.idempotencyKey == nil {
            // Pure PUB/SUB: nothing to store, but delivered in order with the channel's other publishes.
            let result = AppendResult(position: StreamPosition(offset: 0, epoch: ""), publication: publication)
            return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<AppendResult, any Error>) in
                writer.submit(
                    WriteOp(
                        needsTransaction: false, apply: { _ in },
                        finish: { error in
                            if let error { return cont.resume(throwing: error) }
                            onCommit(result)
                            cont.resume(returning: result)
                        }))
            }
        }
        return try await write({ txn in try self.applyAppend(txn, channel, publication, options, now: now) }) { result in
            if !result.suppressed { onCommit(result) }
        }
    }

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        try await readCreatingMeta(channel, metaTTLSeconds: metaTTLSeconds) { now, ttl in
            try self.readStream(channel, filter, metaTTLSeconds: ttl, now: now)
        }
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await readCreatingMeta(channel, metaTTLSeconds: metaTTLSeconds) { now, ttl in
            try self.readLive(channel, metaTTLSeconds: ttl, now: now) { txn, id, meta in
                KeyedCacheRead(
                    entries: try self.readKeyed(txn, id, since: since), top: StreamPosition(offset: meta.top, epoch: meta.epoch),
                    floor: meta.floorOfKeyed)
            }
        }
    }

    /// Runs `read` (now, meta TTL to check); when it needs the stream created or its meta TTL
    /// refreshed, writes that first and reads again without the check.
    private func readCreatingMeta<T>(
        _ channel: String, metaTTLSeconds: Int64, _ read: (Int64, Int64) throws -> ReadOutcome<T>
    ) async throws -> T {
        let now = clock.nowMillis()
        switch try read(now, metaTTLSeconds) {
        case .result(let r):
            return r
        case .needsMetaWrite:
            _ = try await write { txn in try self.ensureMeta(txn, channel, metaTTLSeconds: metaTTLSeconds, now: now) }
            switch try read(now, 0) {
            case .result(let r): return r
            case .needsMetaWrite: throw LMDBStoreError(path: options.path, reason: "stream meta missing after creation")
            }
        }
    }

    package func removeHistory(channel: String) async throws {
        let now = clock.nowMillis()
        _ = try await write { txn -> Bool in
            guard let id = try self.channelID(txn, channel), var meta = try self.meta(txn, id) else { return true }
            meta.first = meta.top + 1
            meta.entriesExpireAt = 0
            try self.removeKeyed(txn, id, &meta)
            try self.putMeta(txn, id, meta)
            // The entries themselves go in the sweeper's bounded batches.
            try txn.put(self.env.expiry, KeySchema.expiryKey(at: now, id, .entries), [])
            return true
        }
    }

    package func sweepExpired() async {
        if options.relaxedDurability { try? env.sync() }
        // Bounded batches until nothing due is left; publishes interleave between them.
        for _ in 0..<100_000 {
            let now = clock.nowMillis()
            let more = (try? await write(durable: false) { txn in try self.sweepBatch(txn, now: now) }) ?? false
            if !more || Task.isCancelled { return }
            try? await Task.sleep(for: options.sweepPause)
        }
    }
}

/// Moves a non-Sendable object to the writer thread, which is its only user.
struct UnsafeTransferBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
