import Logging
import NIOCore

/// What `RedisConnection` writes into its channel: commands and one promise for all their replies.
struct RedisRequest: Sendable {
    let commands: [RESPCommand]
    let promise: EventLoopPromise<[RESPValue]>
}

/// Encodes requests, parses replies with `RESPReader`, and hands the replies to requests in order.
///
/// Redis answers the commands of one connection strictly in order, so a FIFO of promises is all
/// the matching pipelining needs. Anything that breaks that order (a timeout, a protocol error,
/// losing the connection) fails every waiting request and closes the channel; requests written
/// afterwards fail at once with the same error.
final class RedisCommandHandler: RESPChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer
    let connectionName = "redis connection"
    let awaited = "reply"

    private struct Waiting {
        let promise: EventLoopPromise<[RESPValue]>
        let expected: Int
        let deadline: NIODeadline
        var isProbe = false
    }

    let reader: RESPReader
    let ioTimeout: TimeAmount
    let logger: Logger
    private var waiting = CircularBuffer<Waiting>()
    var oldestDeadline: NIODeadline? { waiting.first?.deadline }
    var oldestIsProbe: Bool { waiting.first?.isProbe ?? false }
    var isIdle: Bool { waiting.isEmpty }
    var probe: RedisProbe
    /// Replies so far for `waiting.first`, kept outside the queue so appending never copies the array.
    private var collected: [RESPValue] = []
    var timer = DeadlineTimer()
    /// Set once the connection is unusable.
    private(set) var failure: RedisError?
    var closingLocally = false

    init(ioTimeout: TimeAmount, probeInterval: TimeAmount = .zero, logger: Logger) throws(RedisError) {
        self.reader = try RESPReader()
        self.ioTimeout = ioTimeout
        self.probe = RedisProbe(interval: probeInterval, ioTimeout: ioTimeout)
        self.logger = logger
    }

    /// The PING's promise is the probe's own: its answer only has to come in time.
    func writeProbe(context: ChannelHandlerContext, deadline: NIODeadline) {
        let command = RESPCommand("PING")
        var buffer = context.channel.allocator.buffer(capacity: command.encodedSize)
        command.encode(into: &buffer)
        waiting.append(Waiting(promise: context.eventLoop.makePromise(), expected: 1, deadline: deadline, isProbe: true))
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            let error =
                failure.code == .connectionClosed
                ? failure : RedisError(.connectionClosed, "connection closed after \(failure.code): \(failure.message)")
            request.promise.fail(error)
            promise?.fail(error)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: request.commands.reduce(0) { $0 + $1.encodedSize })
        for command in request.commands { command.encode(into: &buffer) }
        waiting.append(Waiting(promise: request.promise, expected: request.commands.count, deadline: .now() + ioTimeout))
        armTimer(context: context)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Set while a flush waits for the loop's current batch of work to finish.
    private var flushPending = false

    /// Flushes wait until the event loop has run what it has queued: requests made in the same
    /// batch (concurrent publishes read from several sockets in one wake-up, each running as a
    /// task on this loop) go out in one write instead of one system call each. A lone request
    /// goes out one queued task later, on the same loop.
    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushPending = false
            context.flush()
        }
    }

    func handleReply(_ reply: RESPValue) throws(RedisError) {
        guard let head = waiting.first else {
            throw RedisError(.protocolError, "a reply arrived with no command waiting for it")
        }
        if collected.isEmpty && head.expected > 1 { collected.reserveCapacity(head.expected) }
        collected.append(reply)
        guard collected.count == head.expected else { return }
        waiting.removeFirst()
        var replies: [RESPValue] = []
        swap(&replies, &collected)
        head.promise.succeed(replies)
    }

    func failAll(_ error: RedisError) {
        // Record the failure first: a failed promise's callbacks may write again, re-entering `write`.
        let error = failure ?? error
        failure = error
        timer.cancel()
        collected = []
        while let head = waiting.popFirst() { head.promise.fail(error) }
    }
}
