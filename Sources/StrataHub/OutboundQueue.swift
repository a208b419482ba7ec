import DequeModule
import StrataCore
import Synchronization

/// A connection's bounded queue of outgoing messages.
///
/// Producers (command replies, fan-out) never wait: `enqueue` appends or reports overflow, so one
/// slow client cannot delay a publish to anyone else. The transport's writer drains it with
/// `poll`, joining queued messages into one frame per write (batching), then performs the close.
///
/// The writer is woken, not waiting: `onReady` installs a callback that runs once when the queue
/// goes from idle to having work, and again only after a `poll` found it empty. A transport runs
/// its drain right on the connection's event loop, so a delivery costs no task wake-up.
///
/// A fan-out message may skip the queue (`enqueueFanOut`): when nothing is queued or due, the
/// writer (`DirectWriter`) may write it at once, which is what a drain right after the enqueue
/// would have done, without the queue's locks, the wake-up and the drain.
package final class OutboundQueue: Sendable {
    package enum Event: Sendable {
        /// Messages to send as one transport frame (JSON: newline-joined).
        case frame([[UInt8]])
        /// Close the connection with this disconnect (nil: just close).
        case close(Disconnect?)
    }

    /// What the writer's next write touches first (`DirectWriter.hotMemory`), read outside the
    /// lock: the fan-out prefetches it a subscriber ahead (`Prefetch`). First in the object,
    /// then the lock and what the idle check reads: `hotBytes`.
    private let writerMemory = PrefetchSlots()

    struct State {
        // What a fan-out's idle check reads comes first, in the lock's cache line.
        /// `messages.count`, kept here: the fan-out checks for an idle queue per delivery, and
        /// the deque's count lives in its storage, another cold cache line.
        private(set) var count = 0
        var closeRequested = false
        var finished = false
        /// A wake-up was sent and the writer has not yet found the queue empty.
        var wakePending = false
        /// The writer, when it can take a fan-out message at once.
        var direct: (any DirectWriter)?
        var messages: Deque<[UInt8]> = [] {
            didSet { count = messages.count }
        }
        /// The most messages waiting at once since the storage was last given back.
        var longest = 0
        var bytes = 0
        var closing: Disconnect?
        var wake: (@Sendable () -> Void)?

        /// The wake-up to send now, if the writer is idle.
        mutating func wakeIfIdle() -> (@Sendable () -> Void)? {
            guard let wake, !wakePending else { return nil }
            wakePending = true
            return wake
        }
    }

    /// In the queue's own storage, not a `Locked` of its own: one cold cache line less per
    /// delivery (docs/benchmarks-log.md §9).
    private let state = Mutex(State())
    /// Slots an idle queue may keep for the next deliveries.
    static let keptSlots = 16
    package let maxBytes: Int
    /// Upper bound for one batched frame; a single larger message still goes out whole.
    package let maxFrameBytes: Int

    package init(maxBytes: Int, maxFrameBytes: Int = 64 * 1024) {
        self.maxBytes = maxBytes
        self.maxFrameBytes = maxFrameBytes
    }

    package enum EnqueueResult: Sendable {
        case queued
        case overflow
        case closed
    }

    package func enqueue(_ message: [UInt8]) -> EnqueueResult {
        enqueue(contentsOf: CollectionOfOne(message))
    }

    /// Adds messages in order, all or nothing.
    package func enqueue(contentsOf messages: some Collection<[UInt8]>) -> EnqueueResult {
        let (result, wake): (EnqueueResult, (@Sendable () -> Void)?) = state.withLock { s in
            if s.closeRequested || s.finished { return (.closed, nil) }
            let added = messages.reduce(0) { $0 + $1.count }
            if s.bytes + added > maxBytes { return (.overflow, nil) }
            s.messages.append(contentsOf: messages)
            s.longest = max(s.longest, s.messages.count)
            s.bytes += added
            return (.queued, s.wakeIfIdle())
        }
        wake?()
        return result
    }

    /// What became of a fan-out message.
    package enum FanOutResult {
        case enqueued(EnqueueResult)
        /// Not queued: the caller writes it with `writer.writeClaimed` (after its own locks).
        case direct(any DirectWriter)
    }

    /// A fan-out message: claimed for a write at once when the queue is idle (nothing queued, no
    /// drain due, not closing) and the writer can take it now (`DirectWriter`), queued otherwise.
    /// A message enqueued after the claim wakes the writer, whose drain runs after the claimed
    /// write on the same loop, so the connection's order is the order of the two calls.
    package func enqueueFanOut(_ message: [UInt8]) -> FanOutResult {
        let direct: (any DirectWriter)? = state.withLock { s in
            s.count == 0 && !s.wakePending && !s.closeRequested && !s.finished ? s.direct : nil
        }
        if let direct, direct.claimDirectWrite() { return .direct(direct) }
        return .enqueued(enqueue(message))
    }

    /// The bytes at the start of the object that a fan-out reads: the header, the writer's
    /// slots, the lock and the idle check's fields (the order of the stored properties).
    static let hotBytes: UInt = 272

    /// Starts loading this queue's state and slots, for a delivery a couple of subscribers
    /// from now.
    @inline(__always)
    package func prefetch() {
        Prefetch.object(self, bytes: Self.hotBytes)
    }

    /// Starts loading the writer's own objects (`DirectWriter.hotMemory`); this queue's lines
    /// should be loaded already (`prefetch`).
    @inline(__always)
    package func prefetchWriterObjects() {
        writerMemory.prefetch(0..<DirectWriteRegions.objects)
    }

    /// Starts loading what the writer's objects point to; those should be loaded already
    /// (`prefetchWriterObjects`).
    @inline(__always)
    package func prefetchWriterPointees() {
        writerMemory.prefetch(DirectWriteRegions.objects..<PrefetchSlots.count)
    }

    /// Asks the writer to close after sending what is queued (or, with `dropPending`, at once).
    package func close(_ disconnect: Disconnect?, dropPending: Bool = false) {
        let wake: (@Sendable () -> Void)? = state.withLock { s in
            if s.closeRequested || s.finished { return nil }
            s.closeRequested = true
            s.closing = disconnect
            if dropPending {
                s.messages.removeAll()
                s.bytes = 0
            }
            return s.wakeIfIdle()
        }
        wake?()
    }

    /// Installs the writer's wake-up (and the writer, when it takes fan-out messages at once); the
    /// wake-up runs at once if work is already waiting. Once.
    package func onReady(direct: (any DirectWriter)? = nil, _ wake: @escaping @Sendable () -> Void) {
        if let direct { writerMemory.set(direct.hotMemory) }
        let now: (@Sendable () -> Void)? = state.withLock { s in
            s.wake = wake
            s.direct = direct
            return s.messages.isEmpty && !s.closeRequested ? nil : s.wakeIfIdle()
        }
        now?()
    }

    /// The writer's next action without waiting: a frame, then (once) the close; nil when there
    /// is nothing to do, after which the next enqueue or close wakes the writer again.
    package func poll() -> Event? {
        state.withLock { s in
            if !s.messages.isEmpty { return Self.takeBatch(&s, maxFrameBytes) }
            if s.closeRequested && !s.finished {
                s.finished = true
                // The writer's wake-up holds the writer, which holds this queue and its
                // channel: dropping it breaks that cycle, or every closed connection leaks.
                s.wake = nil
                s.direct = nil
                return .close(s.closing)
            }
            s.wakePending = false
            // Idle after a burst: give back the storage it grew. A queue that stayed short keeps
            // its few slots, so a steady stream of deliveries does not reallocate them each time.
            if s.longest > Self.keptSlots {
                s.messages = []
                s.longest = 0
            }
            return nil
        }
    }

    /// Removes and returns everything queued, without waiting (tests and diagnostics).
    package func takeAll() -> [[UInt8]] {
        state.withLock { s in
            let all = Array(s.messages)
            s.messages.removeAll(keepingCapacity: true)
            s.bytes = 0
            return all
        }
    }

    /// The disconnect the queue was closed with, if any.
    package var closeReason: Disconnect? { state.withLock { $0.closing } }

    /// Bytes of the messages waiting (metrics).
    package var queuedBytes: Int { state.withLock { $0.bytes } }

    package var isClosed: Bool { state.withLock { $0.closeRequested || $0.finished } }

    private static func takeBatch(_ s: inout State, _ limit: Int) -> Event {
        var batch: [[UInt8]] = []
        var size = 0
        while let first = s.messages.first, batch.isEmpty || size + first.count <= limit {
            batch.append(first)
            size += first.count
            s.messages.removeFirst()
        }
        s.bytes -= size
        return .frame(batch)
    }
}

/// How `DirectWriter.hotMemory` is laid out.
package enum DirectWriteRegions {
    /// The writer's own objects come first, in this many regions.
    package static let objects = 4
}

/// A connection's writer that can write a fan-out message at once: on its event loop, during a
/// fan-out its lane lets write directly (a quiet one, `DrainBatcher`), with the socket taking data.
package protocol DirectWriter: AnyObject, Sendable {
    /// Whether a message may be written now; true reserves the write, which must follow on
    /// this thread with `writeClaimed` (before anything else is written to the connection).
    func claimDirectWrite() -> Bool
    /// Writes and flushes a message claimed with `claimDirectWrite`. Called outside every lock
    /// of the session: a failed write closes the channel, whose handlers end the session.
    func writeClaimed(_ message: [UInt8])
    /// The memory a direct write touches first, for the fan-out to prefetch (`PrefetchSlots`):
    /// `DirectWriteRegions.objects` regions of the writer's own objects (itself, its channel,
    /// the context it writes from, ...; 0 for one it lacks), then what those point to. Asked
    /// once, on the writer's event loop, when it starts.
    var hotMemory: [(address: UInt, bytes: UInt)] { get }
}
