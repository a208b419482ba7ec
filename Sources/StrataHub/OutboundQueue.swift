import DequeModule
import StrataCore

/// A connection's bounded queue of outgoing messages.
///
/// Producers (command replies, fan-out) never wait: `enqueue` appends or reports overflow, so one
/// slow client cannot delay a publish to anyone else. The transport's single writer drains it,
/// joining queued messages into one frame per write (batching), then performs the close.
public final class OutboundQueue: Sendable {
    public enum Event: Sendable {
        /// Messages to send as one transport frame (JSON: newline-joined).
        case frame([[UInt8]])
        /// Close the connection with this disconnect (nil: just close).
        case close(Disconnect?)
    }

    struct State {
        var messages: Deque<[UInt8]> = []
        var bytes = 0
        var closing: Disconnect?
        var closeRequested = false
        var finished = false
        var waiter: CheckedContinuation<Event, Never>?
    }

    private let state = Locked(State())
    public let maxBytes: Int
    /// Upper bound for one batched frame; a single larger message still goes out whole.
    public let maxFrameBytes: Int

    public init(maxBytes: Int, maxFrameBytes: Int = 64 * 1024) {
        self.maxBytes = maxBytes
        self.maxFrameBytes = maxFrameBytes
    }

    public enum EnqueueResult: Sendable {
        case queued
        case overflow
        case closed
    }

    public func enqueue(_ message: [UInt8]) -> EnqueueResult {
        enqueue(contentsOf: CollectionOfOne(message))
    }

    /// Adds messages in order, all or nothing.
    public func enqueue(contentsOf messages: some Collection<[UInt8]>) -> EnqueueResult {
        let (result, waiter, event): (EnqueueResult, CheckedContinuation<Event, Never>?, Event?) = state.withLock { s in
            if s.closeRequested || s.finished { return (.closed, nil, nil) }
            let added = messages.reduce(0) { $0 + $1.count }
            if s.bytes + added > maxBytes { return (.overflow, nil, nil) }
            s.messages.append(contentsOf: messages)
            s.bytes += added
            if let w = s.waiter {
                s.waiter = nil
                return (.queued, w, Self.takeBatch(&s, maxFrameBytes))
            }
            return (.queued, nil, nil)
        }
        if let waiter, let event { waiter.resume(returning: event) }
        return result
    }

    /// Asks the writer to close after sending what is queued (or, with `dropPending`, at once).
    public func close(_ disconnect: Disconnect?, dropPending: Bool = false) {
        let waiter: CheckedContinuation<Event, Never>? = state.withLock { s in
            if s.closeRequested || s.finished { return nil }
            s.closeRequested = true
            s.closing = disconnect
            if dropPending {
                s.messages.removeAll()
                s.bytes = 0
            }
            let w = s.waiter
            s.waiter = nil
            if w != nil { s.finished = true }
            return w
        }
        waiter?.resume(returning: .close(disconnect))
    }

    /// Removes and returns everything queued, without waiting (tests and diagnostics).
    public func takeAll() -> [[UInt8]] {
        state.withLock { s in
            let all = Array(s.messages)
            s.messages.removeAll()
            s.bytes = 0
            return all
        }
    }

    /// The disconnect the queue was closed with, if any.
    public var closeReason: Disconnect? { state.withLock { $0.closing } }

    public var isClosed: Bool { state.withLock { $0.closeRequested || $0.finished } }

    /// The writer's next action; waits while there is nothing to do.
    public func next() async -> Event {
        await withCheckedContinuation { (cont: CheckedContinuation<Event, Never>) in
            let event: Event? = state.withLock { s in
                if !s.messages.isEmpty { return Self.takeBatch(&s, maxFrameBytes) }
                if s.closeRequested || s.finished {
                    s.finished = true
                    return .close(s.closing)
                }
                s.waiter = cont
                return nil
            }
            if let event { cont.resume(returning: event) }
        }
    }

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
