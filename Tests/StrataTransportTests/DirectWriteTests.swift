import NIOCore
import NIOEmbedded
import StrataCore
import StrataHub
import Testing

@testable import StrataTransport

/// A quiet fan-out lets a connection's writer write a publication at once (`DirectWriter`);
/// anything that could merge or reorder it sends it through the queue.
@Suite("Direct writes: a quiet fan-out writes at once, anything else queues")
struct DirectWriteTests {
    let publication = Array(#"{"push":{"channel":"news","pub":{"data":{"n":1},"offset":7}}}"#.utf8)
    let reply = Array(#"{"id":3,"rpc":{}}"#.utf8)

    struct Connection {
        let channel: EmbeddedChannel
        let queue: OutboundQueue

        /// Frames written so far.
        func written() throws -> [ByteBuffer] {
            var out: [ByteBuffer] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(buffer) }
            return out
        }
    }

    /// Tells the writer of the channel's writability, as the connection's handler does.
    final class WritabilityForwarder: ChannelInboundHandler, Sendable {
        typealias InboundIn = Never
        let writer: ChannelFrameWriter
        init(_ writer: ChannelFrameWriter) { self.writer = writer }
        func channelWritabilityChanged(context: ChannelHandlerContext) { writer.writabilityChanged(context.channel.isWritable) }
    }

    func connection(_ loop: EmbeddedEventLoop, _ batcher: DrainBatcher) throws -> Connection {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let queue = OutboundQueue(maxBytes: 1 << 20)
        let writer = ChannelFrameWriter(channel: channel, queue: queue, batcher: batcher, batching: .newlineJoinedText)
        try channel.pipeline.syncOperations.addHandler(WritabilityForwarder(writer))
        writer.start()
        return Connection(channel: channel, queue: queue)
    }

    /// What the hub's delivery does with a frame: write a claimed one after the claim.
    @discardableResult
    func deliver(_ message: [UInt8], to c: Connection) -> Bool {
        switch c.queue.enqueueFanOut(message) {
        case .direct(let writer):
            writer.writeClaimed(message)
            return true
        case .enqueued:
            return false
        }
    }

    func frame(_ messages: [[UInt8]]) -> ByteBuffer { ChannelFrameWriter.dataFrame(messages, .newlineJoinedText) }

    @Test func aQuietFanOutWritesAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        let direct = Locked<Bool?>(nil)
        batcher.submit { [publication] in direct.withLock { $0 = deliver(publication, to: c) } }
        loop.run()
        #expect(direct.withLock { $0 } == true)
        #expect(try c.written() == [frame([publication])])
    }

    /// Outside a fan-out of its lane a fan-out message is queued and drained as before.
    @Test func outsideAFanOutItIsQueued() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        #expect(!deliver(publication, to: c))
        loop.run()
        #expect(try c.written() == [frame([publication])])
    }

    /// A reply waiting in the queue (enqueued from another thread as the fan-out began) goes
    /// first: the publication joins it in one frame.
    @Test func aMessageAlreadyQueuedKeepsItsPlace() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        let direct = Locked<Bool?>(nil)
        batcher.submit { [publication, reply] in
            _ = c.queue.enqueue(reply)
            direct.withLock { $0 = deliver(publication, to: c) }
        }
        loop.run()
        #expect(direct.withLock { $0 } == false)
        #expect(try c.written() == [frame([reply, publication])])
    }

    /// Fan-outs back to back (one waiting behind another, or one just done) are queued, so the
    /// drains can merge them; after `busyGap` of quiet, writes are direct again.
    @Test func fanOutsBackToBackAreQueued() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        let log = Locked<[Bool]>([])
        let one = { @Sendable [publication] in log.withLock { $0.append(deliver(publication, to: c)) } }
        batcher.submit(one)
        batcher.submit(one)
        loop.run()
        // The first saw the second waiting, the second ran right after the first.
        #expect(log.withLock { $0 } == [false, false])
        #expect(try c.written() == [frame([publication, publication])])

        loop.advanceTime(by: DrainBatcher.busyGap)
        batcher.submit(one)
        loop.run()
        #expect(log.withLock { $0 } == [false, false, true])
    }

    /// A quiet fan-out writes at once for a read interval's worth of subscribers, then pauses
    /// (the loop reads its sockets) and goes on writing at once.
    @Test func aLargeQuietFanOutPausesAndGoesOnWritingAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        let perRead = DrainBatcher.writersPerTurn * DrainBatcher.quietTurnsBetweenReads
        let log = Locked<[Bool]>([])
        batcher.submit(LaneFanOut(steps: perRead + 3) { [publication] _ in log.withLock { $0.append(deliver(publication, to: c)) } })
        loop.run()
        #expect(log.withLock { $0 } == Array(repeating: true, count: perRead))
        loop.advanceTime(by: DrainBatcher.quietTurnDelay)
        #expect(log.withLock { $0 } == Array(repeating: true, count: perRead + 3))
        #expect(try c.written().count == perRead + 3)
    }

    /// A fan-out submitted while another is paused waits for it, and makes the rest of it queue,
    /// so the two merge: each connection gets them in order, in one frame.
    @Test func aFanOutArrivingDuringAPauseWaitsAndMakesTheRestQueue() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let connections = try (0..<3).map { _ in try connection(loop, batcher) }
        let perRead = DrainBatcher.writersPerTurn * DrainBatcher.quietTurnsBetweenReads
        let first = Array(#"{"push":{"pub":{"offset":1}}}"#.utf8)
        let second = Array(#"{"push":{"pub":{"offset":2}}}"#.utf8)
        let log = Locked<[String]>([])
        // The first fan-out's last three steps go to the three connections, after the pause.
        batcher.submit(LaneFanOut(steps: perRead + 3) { i in
            guard i >= perRead else { return log.withLock { $0.append("first") } }
            let direct = deliver(first, to: connections[i - perRead])
            log.withLock { $0.append(direct ? "first direct" : "first queued") }
        })
        loop.run()
        #expect(log.withLock { $0.count } == perRead)
        batcher.submit(LaneFanOut(steps: 3) { i in
            let direct = deliver(second, to: connections[i])
            log.withLock { $0.append(direct ? "second direct" : "second queued") }
        })
        loop.advanceTime(by: DrainBatcher.quietTurnDelay)
        #expect(Array(log.withLock { $0 }.dropFirst(perRead)) == Array(repeating: "first queued", count: 3) + Array(repeating: "second queued", count: 3))
        for c in connections { #expect(try c.written() == [frame([first, second])]) }
    }

    /// A socket that takes no more data gets no direct write: the message waits in the queue.
    @Test func aFullSocketIsNotWrittenAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let batcher = DrainBatcher(eventLoop: loop)
        let c = try connection(loop, batcher)
        c.channel.isWritable = false
        c.channel.pipeline.fireChannelWritabilityChanged()
        let direct = Locked<Bool?>(nil)
        batcher.submit { [publication] in direct.withLock { $0 = deliver(publication, to: c) } }
        loop.run()
        #expect(direct.withLock { $0 } == false)
        #expect(c.queue.queuedBytes == publication.count)
    }
}
