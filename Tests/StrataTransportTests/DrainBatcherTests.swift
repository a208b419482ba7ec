import NIOCore
import NIOEmbedded
import StrataCore
import Testing

@testable import StrataTransport

/// A writer that counts its drains and can wake itself again while draining (a publication
/// arriving for it meanwhile).
private final class CountingWriter: Drainable {
    let tag: Int
    let log: Locked<[Int]>?
    let drains = Locked(0)
    let onDrain: Locked<(@Sendable () -> Void)?> = Locked(nil)

    init(tag: Int = 0, log: Locked<[Int]>? = nil) {
        self.tag = tag
        self.log = log
    }

    func drain() {
        drains.withLock { $0 += 1 }
        log?.withLock { $0.append(tag) }
        let next = onDrain.withLock { hook in
            defer { hook = nil }
            return hook
        }
        next?()
    }

    var count: Int { drains.withLock { $0 } }
}

/// A writer that wakes itself again on every drain until stopped.
private final class BusyWriter: Drainable {
    let batcher: DrainBatcher
    let state = Locked((drains: 0, stopped: false))

    init(batcher: DrainBatcher) { self.batcher = batcher }

    func drain() {
        let again = state.withLock { s in
            s.drains += 1
            return !s.stopped
        }
        if again { batcher.schedule(self) }
    }

    func stop() { state.withLock { $0.stopped = true } }
    var count: Int { state.withLock { $0.drains } }
}

@Suite("DrainBatcher: drains in turns, reading the sockets between them")
struct DrainBatcherTests {
    let turn = DrainBatcher.writersPerTurn

    /// The loop's tasks run to the end before it reads its sockets (`EmbeddedEventLoop.run()`
    /// plays one such pass): a large batch stops after one turn there, and the rest waits for a
    /// later one.
    @Test func largeBatchDrainsOneTurnPerLoopPass() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let writers = (0..<(turn * 2 + 5)).map { _ in CountingWriter() }
        for w in writers { batcher.schedule(w) }
        #expect(writers.allSatisfy { $0.count == 0 })

        loop.run()
        #expect(writers.map(\.count) == Array(repeating: 1, count: turn) + Array(repeating: 0, count: turn + 5))

        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(writers.prefix(turn * 2).allSatisfy { $0.count == 1 })
        #expect(writers.suffix(5).allSatisfy { $0.count == 0 })

        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(writers.allSatisfy { $0.count == 1 })
    }

    @Test func smallBatchDrainsAtOnce() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let writers = (0..<(turn - 1)).map { _ in CountingWriter() }
        for w in writers { batcher.schedule(w) }
        loop.run()
        #expect(writers.allSatisfy { $0.count == 1 })
    }

    /// A writer woken again while a turn runs goes to the back of the line, after the writers
    /// still waiting: each connection gets its turn before any gets a second one.
    @Test func wokenAgainDuringATurnWaitsBehindTheRest() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let log = Locked<[Int]>([])
        let writers = (0..<(turn + 1)).map { CountingWriter(tag: $0, log: log) }
        let first = writers[0]
        first.onDrain.withLock { $0 = { batcher.schedule(first) } }
        for w in writers { batcher.schedule(w) }

        loop.run()
        #expect(first.count == 1)
        #expect(writers[turn].count == 0)

        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(log.withLock { $0 } == Array(0..<(turn + 1)) + [0])
    }

    /// After a short turn, wake-ups that came in meanwhile are drained without waiting.
    @Test func wakeUpsAfterAShortTurnDoNotWait() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let a = CountingWriter()
        let b = CountingWriter()
        a.onDrain.withLock { $0 = { batcher.schedule(b) } }
        batcher.schedule(a)
        loop.run()
        #expect(a.count == 1)
        #expect(b.count == 1)
    }

    /// A connection that is woken again on every drain (a steady stream of publications) gets at
    /// most a turn's worth of drains per loop pass: the loop still reads its sockets.
    @Test(.timeLimit(.minutes(1))) func endlessWakeUpsStillYieldToTheSockets() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let busy = BusyWriter(batcher: batcher)
        batcher.schedule(busy)
        loop.run()
        #expect(busy.count == turn)
        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(busy.count == 2 * turn)
        busy.stop()
        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(busy.count == 2 * turn + 1)
    }

    /// Once everything is drained, the next wake-up starts a new batch.
    @Test func idleBatcherStartsAgain() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let w = CountingWriter()
        batcher.schedule(w)
        loop.run()
        batcher.schedule(w)
        loop.run()
        #expect(w.count == 2)
    }
}
