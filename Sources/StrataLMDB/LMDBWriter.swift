import Foundation
import Metrics

/// One unit of work for the writer thread.
final class WriteOp: @unchecked Sendable {
    /// Runs inside the shared write transaction; may run again (after the map grew, or after
    /// another op of the batch failed on its own), so it keeps its results only in state it
    /// overwrites. An error it throws fails this op alone; an `LMDBError` fails the batch.
    let apply: (LMDBTransaction) throws -> Void
    /// Called once, after the commit (nil) or the failure of the batch.
    let finish: ((any Error)?) -> Void
    /// False for work that only needs ordering with the others (no transaction).
    let needsTransaction: Bool
    /// False for work that may be lost on power failure and redone (expiry sweeps): a batch of only
    /// such ops commits without fsync, so the sweeper never takes fsync slots from publishes.
    let needsDurability: Bool

    init(
        needsTransaction: Bool = true, needsDurability: Bool = true, apply: @escaping (LMDBTransaction) throws -> Void,
        finish: @escaping ((any Error)?) -> Void
    ) {
        self.apply = apply
        self.finish = finish
        self.needsTransaction = needsTransaction
        self.needsDurability = needsDurability
    }
}

/// The single thread that owns LMDB write transactions.
///
/// Group commit: whatever was submitted while the previous commit (and its fsync) ran is applied in
/// one transaction and made durable by one commit, so concurrent publishers share the sync cost.
/// Completions run on this thread in submission order, after the commit (an op that failed on its
/// own is told at once, and the rest of its batch commits without it).
final class LMDBWriter: @unchecked Sendable {
    private let env: LMDBEnvironment
    private let condition = NSCondition()
    private var queue: [WriteOp] = []
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)
    /// Upper bound of ops per transaction, to bound the latency of a batch.
    let maxBatch = 4096
    /// Ops per write transaction: how much group commit shares each fsync (metrics).
    private let batchSize = Recorder(label: "strata_lmdb_commit_batch_size", aggregate: true)

    init(env: LMDBEnvironment) {
        self.env = env
        let thread = Thread { [self] in loop() }
        thread.name = "strata-lmdb-writer"
        thread.start()
    }

    func submit(_ op: WriteOp) {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            op.finish(LMDBStoreError(path: env.path, reason: "store is closed"))
            return
        }
        queue.append(op)
        condition.signal()
        condition.unlock()
    }

    /// Finishes what is queued, then stops the thread.
    func stop() {
        condition.lock()
        let already = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !already { stopped.wait() }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                stopped.signal()
                return
            }
            let take = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            condition.unlock()
            run(batch)
        }
    }

    /// An op's own failure inside the shared transaction, told apart from the environment's.
    private struct OpFailed: Error {
        let index: Int
        let error: any Error
    }

    private func run(_ batch: [WriteOp]) {
        var batch = batch
        guard batch.contains(where: \.needsTransaction) else {
            for op in batch { op.finish(nil) }
            return
        }
        let durable = batch.contains { $0.needsTransaction && $0.needsDurability }
        batchSize.record(batch.count)
        var grows = 0
        while true {
            do {
                let ops = batch
                try env.write(durable: durable) { txn in
                    for (index, op) in ops.enumerated() where op.needsTransaction {
                        do {
                            try op.apply(txn)
                        } catch let error as LMDBError {
                            // The environment's (a full map, a full disk): every op shares it.
                            throw error
                        } catch {
                            throw OpFailed(index: index, error: error)
                        }
                    }
                }
                for op in batch { op.finish(nil) }
                return
            } catch let failed as OpFailed {
                // One op failed on its own (a corrupt record it read, say): the transaction is
                // aborted, that op gets its error, and the others run again without it — one
                // bad channel must not fail the publishes it happened to share a commit with.
                batch[failed.index].finish(failed.error)
                batch.remove(at: failed.index)
                guard batch.contains(where: \.needsTransaction) else {
                    for op in batch { op.finish(nil) }
                    return
                }
            } catch let error as LMDBError where error.isMapFull && grows < 16 {
                // A full map grows instead of failing publishes; the batch is applied again.
                grows += 1
                do {
                    try env.grow()
                } catch {
                    for op in batch { op.finish(error) }
                    return
                }
            } catch {
                for op in batch { op.finish(error) }
                return
            }
        }
    }
}
