import NIOCore
import Synchronization

/// What a connection's writer asks before it writes a fan-out message at once (`DirectWriter`):
/// on its event loop, the connection still open for messages, its socket taking data, and its
/// lane running a quiet fan-out (`DrainBatcher.takesDirectWrite`). Both writers keep one.
///
/// Why flags of its own: the check runs per delivery, and asking NIO's `isWritable` and
/// `isActive` (an atomic object each) and the writer's loop-bound boxes meant one cold cache
/// line each at 50 publications/s (docs/benchmarks-log.md §9). These sit in the writer's own
/// storage. They change on the loop only; atomics, so that they can.
///
/// A closed channel is not asked about: NIO fails a write to it, which drops the message as
/// the drain would.
struct DirectWriteGate: ~Copyable {
    private let eventLoop: any EventLoop
    /// Messages may still be written (the stream's head is out, no close was sent).
    private let open: Atomic<Bool>
    /// The channel takes data, as the connection's handler last heard (`writabilityChanged`).
    private let writable: Atomic<Bool>

    init(channel: any Channel, open: Bool) {
        self.eventLoop = channel.eventLoop
        self.open = Atomic(open)
        self.writable = Atomic(channel.isWritable)
    }

    /// Whether a fan-out message may be written now.
    func allows(_ batcher: DrainBatcher) -> Bool {
        eventLoop.inEventLoop && open.load(ordering: .relaxed) && writable.load(ordering: .relaxed) && batcher.takesDirectWrite()
    }

    func setOpen(_ isOpen: Bool) {
        open.store(isOpen, ordering: .relaxed)
    }

    /// The connection's handler passes on each `channelWritabilityChanged`: a full socket takes
    /// no direct write, so its messages wait in the bounded queue, not in NIO's unbounded buffer.
    func writabilityChanged(_ isWritable: Bool) {
        writable.store(isWritable, ordering: .relaxed)
    }
}
