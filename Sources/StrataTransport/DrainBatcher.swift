import DequeModule
import NIOCore
import StrataCore

/// What a `DrainBatcher` runs on its event loop: a connection's frame writer.
protocol Drainable: AnyObject, Sendable {
    /// Writes what the connection has queued; on the event loop.
    func drain()
}

/// Coalesces writer drains per event loop: a publication to 1,000 subscribers whose connections
/// live on two event loops costs two cross-thread submissions (each may wake a sleeping loop with
/// a syscall), not 1,000. Wake-ups arriving while a batch is pending just join it.
///
/// A large batch is drained in turns of `writersPerTurn`, and the loop reads its sockets between
/// turns. Why: NIO runs a loop's ready tasks to the end before it looks at I/O again, so one
/// drain of 1,000 writers kept the loop's sockets (the next publish's API request and PUB/SUB
/// message, other clients' commands) waiting for the whole pass, and every pass wrote one frame
/// per delivery. Reading between turns lets publications that arrive during a pass join the
/// queues of the writers not yet drained, which send them together in one frame and one write,
/// as on two nodes, where PUB/SUB messages arrive in bursts. A batch smaller than a turn is
/// drained at once, as before, with the wake-ups that arrive while it is written. (`docs/benchmarks-log.md` §6 has the measurements behind both sizes.)
///
/// The turns stay small even when nothing joins the batch (a paced fan-out): turns that doubled
/// then saved a few context switches per paced publication but, unpaced, cut the merging by
/// half and the deliveries per second by a quarter (`docs/benchmarks-log.md` §9).
final class DrainBatcher: Sendable {
    /// Writers drained before the loop reads its sockets again: ~0.3 ms of loopback writes.
    static let writersPerTurn = 32
    /// When the next turn is due. NIO leaves its task loop only for a task due later; with no
    /// socket ready, the loop waits this long (idle, on its timer) before the next turn.
    static let turnDelay = TimeAmount.microseconds(20)

    private struct State {
        var pending: Deque<any Drainable> = []
        /// A turn is queued on the loop (or running): wake-ups only join `pending`.
        var scheduled = false
    }

    private let eventLoop: any EventLoop
    private let state = Locked(State())
    /// Single messages framed on this loop, shared by its writers (`FramedMessageCache`).
    let framedMessages: NIOLoopBoundBox<FramedMessageCache>

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.framedMessages = .makeBoxSendingValue(FramedMessageCache(), as: FramedMessageCache.self, eventLoop: eventLoop)
    }

    func schedule(_ writer: any Drainable) {
        let first = state.withLock { s in
            s.pending.append(writer)
            if s.scheduled { return false }
            s.scheduled = true
            return true
        }
        if first { eventLoop.execute { self.runTurn() } }
    }

    /// Drains up to `writersPerTurn` writers, including ones woken during the turn, then
    /// schedules the next turn if more are waiting. The bound holds however fast wake-ups come
    /// in from other threads, so the loop always gets back to its sockets.
    private func runTurn() {
        var budget = Self.writersPerTurn
        while budget > 0 {
            guard let batch = take(upTo: budget) else { return }
            for writer in batch { writer.drain() }
            budget -= batch.count
        }
        // The budget is spent: the sockets come first, if anyone is still waiting.
        guard take(upTo: 0) != nil else { return }
        eventLoop.scheduleTask(in: Self.turnDelay) { self.runTurn() }
    }

    /// Up to `limit` waiting writers, taken off the line; nil when none is waiting, which ends
    /// the batch (the next wake-up starts a new one).
    private func take(upTo limit: Int) -> [any Drainable]? {
        state.withLock { s in
            if s.pending.isEmpty {
                s.scheduled = false
                return nil
            }
            let n = min(s.pending.count, limit)
            defer { s.pending.removeFirst(n) }
            return Array(s.pending.prefix(n))
        }
    }
}

/// One value per event loop, made on first use and shared by every connection on that loop
/// (a connection's drain batcher, the executor its command tasks prefer).
final class PerEventLoop<Value: Sendable>: Sendable {
    private let values = Locked<[ObjectIdentifier: Value]>([:])
    private let make: @Sendable (any EventLoop) -> Value

    init(_ make: @escaping @Sendable (any EventLoop) -> Value) {
        self.make = make
    }

    func callAsFunction(_ eventLoop: any EventLoop) -> Value {
        values.withLock { all in
            let key = ObjectIdentifier(eventLoop)
            if let value = all[key] { return value }
            let value = make(eventLoop)
            all[key] = value
            return value
        }
    }
}
