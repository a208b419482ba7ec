import StrataCore
import Testing

@testable import StrataHub

@Suite("OutboundQueue")
struct OutboundQueueTests {
    @Test func batchesQueuedMessagesIntoOneFrame() async {
        let q = OutboundQueue(maxBytes: 1000)
        #expect(q.enqueue([1, 2]) == .queued)
        #expect(q.enqueue([3]) == .queued)
        guard case .frame(let batch) = await q.next() else {
            Issue.record("expected a frame")
            return
        }
        #expect(batch == [[1, 2], [3]])
    }

    @Test func frameBatchRespectsMaxFrameBytes() async {
        let q = OutboundQueue(maxBytes: 1000, maxFrameBytes: 4)
        for _ in 0..<3 { _ = q.enqueue([0, 0, 0]) }
        guard case .frame(let first) = await q.next() else { Issue.record("expected a frame"); return }
        #expect(first.count == 1)
    }

    @Test func overflowIsReportedAndNothingPartialQueued() {
        let q = OutboundQueue(maxBytes: 5)
        #expect(q.enqueue([1, 2, 3]) == .queued)
        #expect(q.enqueue(contentsOf: [[4], [5, 6]]) == .overflow)
        #expect(q.takeAll() == [[1, 2, 3]])
    }

    @Test func closeComesAfterPendingMessages() async {
        let q = OutboundQueue(maxBytes: 100)
        _ = q.enqueue([7])
        q.close(.badRequest)
        #expect(q.enqueue([8]) == .closed)
        guard case .frame(let batch) = await q.next() else { Issue.record("expected a frame"); return }
        #expect(batch == [[7]])
        guard case .close(let d) = await q.next() else { Issue.record("expected close"); return }
        #expect(d == .badRequest)
    }

    @Test func waitingWriterWakesOnEnqueue() async {
        let q = OutboundQueue(maxBytes: 100)
        async let event = q.next()
        try? await Task.sleep(for: .milliseconds(20))
        _ = q.enqueue([9])
        guard case .frame(let batch) = await event else { Issue.record("expected a frame"); return }
        #expect(batch == [[9]])
    }
}
