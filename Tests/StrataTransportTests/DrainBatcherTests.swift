import NIOCore
import NIOEmbedded
import StrataCore
import StrataHub
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

@Suite("DrainBatcher: drains in turns, reading the sockets between them when fan-outs come back to back")
struct DrainBatcherTests {
    let turn = DrainBatcher.writersPerTurn

    /// A pass during which a fan-out arrives is busy: the loop's tasks run to the end before it
    /// reads its sockets (`EmbeddedEventLoop.run()` plays one such pass), so a large batch stops
    /// after the turn that saw the fan-out, and the rest waits for a later one.
    @Test func busyPassDrainsOneTurnPerLoopPass() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let writers = (0..<(turn * 2 + 5)).map { _ in CountingWriter() }
        // The next publication's fan-out reaches the lane while the first writer is drained.
        writers[0].onDrain.withLock { $0 = { batcher.submit {} } }
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

    /// With no fan-out arriving (a paced publication), the turns follow one another without
    /// waiting on a timer: the whole batch is written in one loop pass.
    @Test func quietPassDrainsWithoutWaiting() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let writers = (0..<(turn * 5 + 3)).map { _ in CountingWriter() }
        for w in writers { batcher.schedule(w) }
        loop.run()
        #expect(writers.allSatisfy { $0.count == 1 })
    }

    /// A quiet pass still reads the sockets after `quietTurnsBetweenReads` turns (or
    /// `quietReadInterval`, on a real clock).
    @Test func quietPassStillReadsTheSockets() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let perRead = turn * DrainBatcher.quietTurnsBetweenReads
        let writers = (0..<(perRead + 7)).map { _ in CountingWriter() }
        for w in writers { batcher.schedule(w) }
        loop.run()
        #expect(writers.prefix(perRead).allSatisfy { $0.count == 1 })
        #expect(writers.suffix(7).allSatisfy { $0.count == 0 })
        loop.advanceTime(by: DrainBatcher.quietTurnDelay)
        #expect(writers.allSatisfy { $0.count == 1 })
    }

    /// A large pass that starts soon after the last large one ended is busy from its first turn
    /// (publications back to back, between which nothing was left to drain); once the loop has
    /// been idle for `busyGap`, the next pass is quiet again.
    @Test func aPassRightAfterALargeOneIsBusy() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let first = (0..<(turn * 2)).map { _ in CountingWriter() }
        for w in first { batcher.schedule(w) }
        loop.run()
        #expect(first.allSatisfy { $0.count == 1 })

        let second = (0..<(turn * 2)).map { _ in CountingWriter() }
        for w in second { batcher.schedule(w) }
        loop.run()
        #expect(second.map(\.count) == Array(repeating: 1, count: turn) + Array(repeating: 0, count: turn))
        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(second.allSatisfy { $0.count == 1 })

        loop.advanceTime(by: DrainBatcher.busyGap)
        let third = (0..<(turn * 2)).map { _ in CountingWriter() }
        for w in third { batcher.schedule(w) }
        loop.run()
        #expect(third.allSatisfy { $0.count == 1 })
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
        loop.advanceTime(by: DrainBatcher.turnDelay)
        #expect(log.withLock { $0 } == Array(0..<(turn + 1)) + [0])
    }

    /// The lane runs the hub's fan-outs on its loop, in the order they were submitted.
    @Test func submittedFanOutsRunInOrderOnTheLoop() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let log = Locked<[Int]>([])
        for i in 0..<5 { batcher.submit { log.withLock { $0.append(i) } } }
        #expect(log.withLock { $0 }.isEmpty)
        loop.run()
        #expect(log.withLock { $0 } == [0, 1, 2, 3, 4])
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
    /// most a quiet read interval's worth of turns per loop pass: the loop still reads its sockets.
    @Test(.timeLimit(.minutes(1))) func endlessWakeUpsStillYieldToTheSockets() {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let busy = BusyWriter(batcher: batcher)
        let perRead = turn * DrainBatcher.quietTurnsBetweenReads
        batcher.schedule(busy)
        loop.run()
        #expect(busy.count == perRead)
        loop.advanceTime(by: DrainBatcher.quietTurnDelay)
        #expect(busy.count == 2 * perRead)
        busy.stop()
        loop.advanceTime(by: DrainBatcher.quietTurnDelay)
        #expect(busy.count == 2 * perRead + 1)
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
