import NIOCore
import StrataCore

/// Coalesces writer drains per event loop: a publication to 1,000 subscribers whose connections
/// live on two event loops costs two cross-thread submissions (each may wake a sleeping loop with
/// a syscall), not 1,000. Wake-ups arriving while a batch is pending just join it.
final class DrainBatcher: Sendable {
    private let eventLoop: any EventLoop
    private let pending = Locked<[ChannelFrameWriter]>([])

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func schedule(_ writer: ChannelFrameWriter) {
        let first = pending.withLock { p in
            p.append(writer)
            return p.count == 1
        }
        if first { eventLoop.execute { self.run() } }
    }

    private func run() {
        let batch = pending.withLock { p in
            defer { p.removeAll(keepingCapacity: true) }
            return p
        }
        for writer in batch { writer.drain() }
    }
}

/// One `DrainBatcher` per event loop, shared by every connection on it.
final class DrainBatchers: Sendable {
    private let batchers = Locked<[ObjectIdentifier: DrainBatcher]>([:])

    func batcher(for eventLoop: any EventLoop) -> DrainBatcher {
        batchers.withLock { all in
            let key = ObjectIdentifier(eventLoop)
            if let b = all[key] { return b }
            let b = DrainBatcher(eventLoop: eventLoop)
            all[key] = b
            return b
        }
    }
}
