import DequeModule
import NIOCore
import StrataCore
import StrataHTTP
import StrataHub

/// A connection's received messages, waiting for its session, and who handles them.
///
/// Why: `ClientSession.handleFrame` is async (a subscribe reads history, a connect may verify a
/// token) and must see one connection's messages one at a time, in order. A task per connection
/// would do that, but an idle task keeps the stack it last needed (~30 KB per connection). Here a
/// task exists only while messages are waiting: the transport pushes a message, the first push
/// into an empty inbox says to start one, and that task takes messages until the inbox is empty,
/// then ends. The end of the connection (`close`) goes through the same line, so the session
/// learns of it after the messages before it.
///
/// Reading stops while `pauseDepth` messages wait (a client that sends faster than its commands
/// are answered) and starts again once the task has taken the inbox down to `resumeDepth`.
final class CommandInbox: Sendable {
    enum Item: Sendable {
        case message([UInt8])
        /// A message from an `/emulation` request, whose answer waits for `done`.
        case emulated([UInt8], done: @Sendable () -> Void)
        /// The transport is gone: the session cleans up.
        case closed
    }

    static let pauseDepth = 16
    static let resumeDepth = 4

    private struct State {
        var items: Deque<Item> = []
        /// A task is taking items (set by the push that found the inbox idle).
        var running = false
        var paused = false
        var closed = false
    }

    private let state = Locked(State())

    /// Adds a message; `startTask` says the caller must start the task that takes items.
    /// Messages after `close` are dropped.
    func push(_ message: [UInt8]) -> (startTask: Bool, pauseReading: Bool) {
        push(.message(message)) ?? (false, false)
    }

    /// Adds an emulation request's message; `done` runs once the session handled it, or at once
    /// when the connection is closed. Returns whether the caller must start the task.
    func pushEmulated(_ message: [UInt8], done: @escaping @Sendable () -> Void) -> Bool {
        guard let (startTask, _) = push(.emulated(message, done: done)) else {
            done()
            return false
        }
        return startTask
    }

    private func push(_ item: Item) -> (startTask: Bool, pauseReading: Bool)? {
        state.withLock { s in
            guard !s.closed else { return nil }
            s.items.append(item)
            if s.items.count >= Self.pauseDepth { s.paused = true }
            return (Self.claim(&s), s.paused)
        }
    }

    /// The task that hands waiting items to `session`, in order, on `executor`'s loop, and ends
    /// when the inbox is empty. `resumeReading` runs on the loop when reading may start again.
    func startTask(session: ClientSession, executor: EventLoopTaskExecutor, resumeReading: @escaping @Sendable () -> Void) {
        let loop = executor.eventLoop
        // A client that floods commands must not hold the event loop until its inbox is empty:
        // between frames with more waiting, and every few commands inside a large frame, the
        // task steps aside until the loop has polled the other connections' sockets.
        let nextTurn: @Sendable () async -> Void = { await executor.nextTurn() }
        Task(executorPreference: executor) {
            var first = true
            while let (item, resume) = self.next() {
                if resume { loop.execute(resumeReading) }
                // An item after the first of this run waited behind it: the others go first.
                if !first { await nextTurn() }
                first = false
                switch item {
                case .message(let bytes): await session.handleFrame(bytes, betweenTurns: nextTurn)
                case .emulated(let bytes, let done):
                    await session.handleFrame(bytes, betweenTurns: nextTurn)
                    done()
                case .closed: await session.transportClosed()
                }
            }
        }
    }

    /// Drops the messages not yet taken and queues the end; `startTask` as for `push`.
    func close() -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            s.closed = true
            // Emulation requests still waiting are answered (their commands are not run).
            for case .emulated(_, let done) in s.items { done() }
            s.items.removeAll()
            s.items.append(.closed)
            return Self.claim(&s)
        }
    }

    /// The next item for the task, and whether reading may start again; nil ends the task.
    func next() -> (item: Item, resumeReading: Bool)? {
        state.withLock { s in
            guard let item = s.items.popFirst() else {
                s.running = false
                s.items = []  // the storage goes with the burst
                return nil
            }
            var resume = false
            if s.paused && s.items.count <= Self.resumeDepth {
                s.paused = false
                resume = true
            }
            return (item, resume)
        }
    }

    /// Whether reading is held back (too many messages waiting).
    var isPaused: Bool { state.withLock { $0.paused } }

    private static func claim(_ s: inout State) -> Bool {
        if s.running { return false }
        s.running = true
        return true
    }
}
