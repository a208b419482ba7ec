import StrataCore
import Testing

@testable import StrataHub

@Suite("OutboundQueue")
struct OutboundQueueTests {
    @Test func batchesQueuedMessagesIntoOneFrame() {
        let q = OutboundQueue(maxBytes: 1000)
        #expect(q.enqueue([1, 2]) == .queued)
        #expect(q.enqueue([3]) == .queued)
        guard case .frame(let batch) = q.poll() else {
            Issue.record("expected a frame")
            return
        }
        #expect(batch == [[1, 2], [3]])
        #expect(q.poll() == nil)
    }

    @Test func frameBatchRespectsMaxFrameBytes() {
        let q = OutboundQueue(maxBytes: 1000, maxFrameBytes: 4)
        for _ in 0..<3 { _ = q.enqueue([0, 0, 0]) }
        guard case .frame(let first) = q.poll() else { Issue.record("expected a frame"); return }
        #expect(first.count == 1)
    }

    @Test func overflowIsReportedAndNothingPartialQueued() {
        let q = OutboundQueue(maxBytes: 5)
        #expect(q.enqueue([1, 2, 3]) == .queued)
        #expect(q.enqueue(contentsOf: [[4], [5, 6]]) == .overflow)
        #expect(q.takeAll() == [[1, 2, 3]])
    }

    @Test func closeComesAfterPendingMessagesAndOnlyOnce() {
        let q = OutboundQueue(maxBytes: 100)
        _ = q.enqueue([7])
        q.close(.badRequest)
        #expect(q.enqueue([8]) == .closed)
        guard case .frame(let batch) = q.poll() else { Issue.record("expected a frame"); return }
        #expect(batch == [[7]])
        guard case .close(let d) = q.poll() else { Issue.record("expected close"); return }
        #expect(d == .badRequest)
        #expect(q.poll() == nil)
    }

    @Test func dropPendingCloseSkipsQueuedMessages() {
        let q = OutboundQueue(maxBytes: 100)
        _ = q.enqueue([1])
        q.close(.slow, dropPending: true)
        guard case .close(let d) = q.poll() else { Issue.record("expected close"); return }
        #expect(d == .slow)
    }

    /// The writer is woken once per idle → busy transition, not once per message.
    @Test func wakesOncePerIdleToBusyTransition() {
        let q = OutboundQueue(maxBytes: 100)
        let wakes = Locked(0)
        _ = q.enqueue([1])
        q.onReady { wakes.withLock { $0 += 1 } }
        #expect(wakes.withLock { $0 } == 1)  // work was already waiting
        _ = q.enqueue([2])
        #expect(wakes.withLock { $0 } == 1)  // the writer has not drained yet
        guard case .frame(let batch) = q.poll() else { Issue.record("expected a frame"); return }
        #expect(batch == [[1], [2]])
        #expect(q.poll() == nil)  // idle again
        _ = q.enqueue([3])
        #expect(wakes.withLock { $0 } == 2)
        #expect(q.poll() != nil)
        #expect(q.poll() == nil)
        q.close(nil)
        #expect(wakes.withLock { $0 } == 3)  // the close wakes an idle writer too
        guard case .close(nil) = q.poll() else { Issue.record("expected close"); return }
    }
}

extension OutboundQueue.Event: Equatable {
    public static func == (a: OutboundQueue.Event, b: OutboundQueue.Event) -> Bool {
        switch (a, b) {
        case (.frame(let x), .frame(let y)): x == y
        case (.close(let x), .close(let y)): x == y
        default: false
        }
    }
}
