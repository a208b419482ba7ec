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
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let promise: EventLoopPromise<[RESPValue]>
        let expected: Int
        let deadline: NIODeadline
    }

    private let reader: RESPReader
    private let ioTimeout: TimeAmount
    private let logger: Logger
    private var waiting = CircularBuffer<Waiting>()
    /// Replies so far for `waiting.first`, kept outside the queue so appending never copies the array.
    private var collected: [RESPValue] = []
    private var timer = DeadlineTimer()
    /// Set once the connection is unusable.
    private var failure: RedisError?
    /// We asked for the close, so losing the connection is no news worth a warning.
    private var closingLocally = false

    init(ioTimeout: TimeAmount, logger: Logger) throws(RedisError) {
        self.reader = try RESPReader()
        self.ioTimeout = ioTimeout
        self.logger = logger
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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes still arriving after a failure cannot be matched to anything; the close is under way.
        guard failure == nil else { return }
        do throws(RedisError) {
            try reader.feed(unwrapInboundIn(data))
            while let reply = try reader.next() {
                try deliver(reply)
            }
        } catch {
            logger.warning("closing redis connection", metadata: ["error": "\(error)"])
            fail(error, context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closingLocally = true
        context.close(mode: mode, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("redis connection error", metadata: ["error": "\(error)"])
        fail(RedisError(.connectionClosed, "\(error)"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closingLocally && failure == nil { logger.warning("redis server closed the connection") }
        failAll(RedisError(.connectionClosed, closingLocally ? "connection closed" : "server closed the connection"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Never leave a caller waiting, however the pipeline is torn down.
        failAll(RedisError(.connectionClosed, "connection closed"))
    }

    private func deliver(_ reply: RESPValue) throws(RedisError) {
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

    private func armTimer(context: ChannelHandlerContext) {
        guard let head = waiting.first else { return }
        timer.arm(at: head.deadline, on: context.eventLoop) { [self] in
            timer.fired()
            guard let head = waiting.first else { return }
            if head.deadline <= .now() {
                let error = RedisError(.timeout, "no reply within \(ioTimeout.nanoseconds / 1_000_000) ms")
                logger.warning("closing redis connection", metadata: ["error": "\(error)"])
                fail(error, context: context)
            } else {
                armTimer(context: context)
            }
        }
    }

    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        // Record the failure first: a failed promise's callbacks may write again, re-entering `write`.
        let error = failure ?? error
        failure = error
        timer.cancel()
        collected = []
        while let head = waiting.popFirst() { head.promise.fail(error) }
    }
}
