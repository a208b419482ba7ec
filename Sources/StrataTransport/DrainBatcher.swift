import DequeModule
import NIOCore
import StrataCore
import StrataHub

/// What a `DrainBatcher` runs on its event loop: a connection's frame writer.
protocol Drainable: AnyObject, Sendable {
    /// Writes what the connection has queued; on the event loop.
    func drain()
}

/// Coalesces writer drains per event loop: a publication to 1,000 subscribers whose connections
/// live on two event loops costs two cross-thread submissions (each may wake a sleeping loop with
/// a syscall), not 1,000. Wake-ups arriving while a batch is pending just join it.
///
/// It is also the loop's `DeliveryLane` for one transport: the hub's fan-outs to the loop's
/// connections run here (`submit`), one after another, so the wake-ups come from the loop
/// itself. A quiet fan-out (no pass under way, no other fan-out waiting or just done) lets its
/// writers write each message at once (`DirectWriter`) instead of queueing it for a drain: the
/// queue's locks, the wake-up and the drain were a sixth of a paced SSE fan-out's CPU. Every
/// `quietReadInterval` (or `quietTurnsBetweenReads` turns' worth of subscribers) it pauses, so
/// the loop reads its sockets, and goes on; a fan-out submitted meanwhile waits for it, and
/// makes the rest of it queue instead, so the two can merge.
///
/// A large batch is drained in turns of `writersPerTurn`. Why: NIO runs a loop's ready tasks to
/// the end before it looks at I/O again, so one drain of 1,000 writers kept the loop's sockets
/// (the next publish's API request and PUB/SUB message, other clients' commands) waiting for the
/// whole pass, and every pass wrote one frame per delivery. When publications come back to back
/// (a busy pass), the loop reads its sockets between turns: publications that arrive during the
/// pass join the queues of the writers not yet drained, which send them together in one frame
/// and one write, as on two nodes, where PUB/SUB messages arrive in bursts. A batch smaller than
/// a turn is drained at once, with the wake-ups that arrive while it is written.
/// (`docs/benchmarks-log.md` §6 has the measurements behind both sizes.)
///
/// Reading the sockets between turns costs a timer and, with no socket ready, a sleep and two
/// context switches: 31 of them per paced publication to 1,000 subscribers, a fifth of that
/// fan-out's CPU (§9). So a quiet pass (the last pass of several turns ended at least `busyGap`
/// before, and no fan-out arrives) runs its turns one after another, and reads the sockets only
/// every `quietReadInterval` (or `quietTurnsBetweenReads`); the first fan-out submitted during
/// the pass makes it busy. Turns
/// that grew instead, while nothing joined, cut the unpaced merging by half (§9): a publish does
/// not always arrive inside a turn, and a grown turn drained the writers it would have joined.
final class DrainBatcher: DeliveryLane {
    /// Writers drained before the loop reads its sockets again: ~0.3 ms of loopback writes.
    static let writersPerTurn = 32
    /// When the next turn is due. NIO leaves its task loop only for a task due later; with no
    /// socket ready, the loop waits this long (idle, on its timer) before the next turn.
    static let turnDelay = TimeAmount.microseconds(20)
    /// A pass that starts sooner than this after the last one ended is busy from its first turn.
    static let busyGap = TimeAmount.milliseconds(2)
    /// How long a quiet pass keeps the loop's sockets waiting, at most…
    static let quietReadInterval = TimeAmount.milliseconds(1)
    /// …and how many turns, whichever comes first.
    static let quietTurnsBetweenReads = 32
    /// A quiet pass's turn after a read is due this soon: by the time NIO looks, it is due or
    /// nearly, so the loop reads what is ready without going to sleep on its timer.
    static let quietTurnDelay = TimeAmount.microseconds(1)

    private struct State {
        var pending: Deque<any Drainable> = []
        /// A turn is queued on the loop (or running): wake-ups only join `pending`.
        var scheduled = false
        /// Fan-outs submitted to this lane so far: one arriving during a pass makes it busy.
        var submissions = 0
        /// Fan-outs waiting for the lane, oldest first.
        var fanOuts: Deque<LaneFanOut> = []
    }

    /// The pass under way, on the loop only.
    private struct Pass {
        var running = false
        var busy = false
        var submissionsAtStart = 0
        /// Turns since the loop last read its sockets, and when it did.
        var turnsSinceRead = 0
        var lastRead = NIODeadline.uptimeNanoseconds(0)
        /// Turns of this pass so far.
        var turns = 0
        /// When the last pass of more than one turn ended (a pass of one turn, such as a reply
        /// or a ping, says nothing about fan-outs coming back to back).
        var lastLargeEnd: NIODeadline?
        /// When the last fan-out ended.
        var lastFanOutEnd: NIODeadline?
        /// A quiet fan-out is running: its writers may write at once (`takesDirectWrite`).
        var direct = false
        /// The fan-out under way, paused while the loop reads its sockets.
        var paused: LaneFanOut?
    }

    private let eventLoop: any EventLoop
    private let state = Locked(State())
    private let pass: NIOLoopBoundBox<Pass>
    /// Single messages framed on this loop, shared by its writers (`FramedMessageCache`).
    let framedMessages: NIOLoopBoundBox<FramedMessageCache>

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.pass = .makeBoxSendingValue(Pass(), as: Pass.self, eventLoop: eventLoop)
        self.framedMessages = .makeBoxSendingValue(FramedMessageCache(), as: FramedMessageCache.self, eventLoop: eventLoop)
    }

    func submit(_ fanOut: LaneFanOut) {
        state.withLock { s in
            s.submissions &+= 1
            s.fanOuts.append(fanOut)
        }
        eventLoop.execute { self.runFanOut() }
    }

    /// A submission's task: runs the oldest fan-out waiting. A task of its own per fan-out, as
    /// before fan-outs could pause: one submitted during another's run comes before the drains
    /// that run queued, so the two merge. While one is paused, the task leaves its fan-out
    /// waiting, for the paused one to run once it is done (`resume`).
    private func runFanOut() {
        guard pass.value.paused == nil, let (fanOut, waiting) = takeFanOut() else { return }
        start(fanOut, waiting: waiting)
    }

    /// A quiet fan-out writes at once and may pause (`runQuietly`); any other runs to its end.
    private func start(_ fanOut: LaneFanOut, waiting: Bool) {
        let recent = pass.value.lastFanOutEnd.map { eventLoop.now - $0 < Self.busyGap } ?? false
        if !pass.value.running && !waiting && !recent {
            if runQuietly(fanOut) { return }
        } else {
            fanOut.runToEnd()
        }
        pass.value.lastFanOutEnd = eventLoop.now
    }

    /// Goes on with the paused fan-out once the loop has read its sockets: still writing at once
    /// if no other fan-out came in meanwhile, else queueing the rest, so they can merge. Then
    /// the fan-outs that came in, in order.
    private func resume() {
        guard let paused = pass.value.paused else { return }
        pass.value.paused = nil
        if state.withLock({ $0.fanOuts.isEmpty }) {
            if runQuietly(paused) { return }
        } else {
            paused.runToEnd()
        }
        pass.value.lastFanOutEnd = eventLoop.now
        while pass.value.paused == nil, let (fanOut, waiting) = takeFanOut() {
            start(fanOut, waiting: waiting)
        }
    }

    /// The oldest fan-out waiting, and whether another waits behind it.
    private func takeFanOut() -> (LaneFanOut, waiting: Bool)? {
        state.withLock { s in s.fanOuts.popFirst().map { ($0, !s.fanOuts.isEmpty) } }
    }

    /// Runs a quiet fan-out with direct writes until it ends (false) or has kept the sockets
    /// waiting long enough: then it is paused, to go on once the loop has read them (true).
    private func runQuietly(_ fanOut: LaneFanOut) -> Bool {
        let until = eventLoop.now + Self.quietReadInterval
        let most = Self.writersPerTurn * Self.quietTurnsBetweenReads
        var steps = 0
        pass.value.direct = true
        defer { pass.value.direct = false }
        while fanOut.runNext() {
            steps += 1
            // The clock is read once per turn's worth of subscribers.
            if steps % Self.writersPerTurn == 0, steps >= most || eventLoop.now >= until {
                pass.value.paused = fanOut
                eventLoop.scheduleTask(in: Self.quietTurnDelay) { self.resume() }
                return true
            }
        }
        return false
    }

    /// Whether a writer on this loop may write a fan-out message at once (`DirectWriter`): only
    /// while a quiet fan-out runs. On the loop.
    func takesDirectWrite() -> Bool {
        pass.value.direct
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
    /// queues the next turn if more are waiting: after the sockets are read when the pass is
    /// busy (or a quiet pass has kept them waiting long enough), else right away. The bound
    /// holds however fast wake-ups come in from other threads.
    private func runTurn() {
        if !pass.value.running { beginPass() }
        var budget = Self.writersPerTurn
        while budget > 0 {
            guard let batch = take(upTo: budget) else { return endPass() }
            for writer in batch { writer.drain() }
            budget -= batch.count
        }
        guard take(upTo: 0) != nil else { return endPass() }
        let now = eventLoop.now
        pass.value.turns += 1
        pass.value.turnsSinceRead += 1
        if !pass.value.busy, state.withLock({ $0.submissions }) != pass.value.submissionsAtStart {
            pass.value.busy = true
        }
        if pass.value.busy {
            // Due later, so NIO reads the sockets first, and waits if none is ready: time for
            // the next publication to arrive and join the writers not yet drained.
            pass.value.lastRead = now + Self.turnDelay
            pass.value.turnsSinceRead = 0
            eventLoop.scheduleTask(in: Self.turnDelay) { self.runTurn() }
        } else if pass.value.turnsSinceRead >= Self.quietTurnsBetweenReads || now - pass.value.lastRead >= Self.quietReadInterval {
            pass.value.lastRead = now
            pass.value.turnsSinceRead = 0
            eventLoop.scheduleTask(in: Self.quietTurnDelay) { self.runTurn() }
        } else {
            // Behind the loop's other ready tasks (a fan-out's decisions among them), before I/O.
            eventLoop.execute { self.runTurn() }
        }
    }

    private func beginPass() {
        let now = eventLoop.now
        let submissions = state.withLock { $0.submissions }
        pass.value.running = true
        pass.value.busy = pass.value.lastLargeEnd.map { now - $0 < Self.busyGap } ?? false
        pass.value.submissionsAtStart = submissions
        pass.value.lastRead = now
        pass.value.turnsSinceRead = 0
        pass.value.turns = 0
    }

    private func endPass() {
        pass.value.running = false
        if pass.value.turns > 0 { pass.value.lastLargeEnd = eventLoop.now }
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
