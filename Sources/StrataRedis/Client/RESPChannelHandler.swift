import Logging
import NIOCore

/// What the command and the pub/sub handlers share: decoding inbound bytes into replies, and the
/// end of a connection, which must fail every waiting request so no caller ever hangs.
///
/// Each handler keeps its own queue of waiting requests and decides what a reply means
/// (`handleReply`); the lifecycle below is the same for both.
protocol RESPChannelHandler: ChannelDuplexHandler, AnyObject where InboundIn == ByteBuffer {
    var reader: RESPReader { get }
    var failure: RedisError? { get }
    /// We asked for the close, so losing the connection is no news worth a warning.
    var closingLocally: Bool { get set }
    var logger: Logger { get }
    /// "redis connection" or "redis pub/sub connection", for log lines.
    var connectionName: String { get }
    /// What a request waits for ("reply", "confirmation"), for the timeout message.
    var awaited: String { get }
    var ioTimeout: TimeAmount { get }
    var timer: DeadlineTimer { get set }
    /// The deadline of the oldest waiting request (requests are answered in order).
    var oldestDeadline: NIODeadline? { get }

    func handleReply(_ reply: RESPValue) throws(RedisError)
    /// Fails every waiting request with `error` and records it as the connection's failure.
    func failAll(_ error: RedisError)
}

extension RESPChannelHandler {
    /// Keeps a timer on the oldest waiting request; when it passes unanswered, the connection fails
    /// with `.timeout` (later replies could no longer be matched to their requests).
    func armTimer(context: ChannelHandlerContext) {
        guard let deadline = oldestDeadline else { return }
        timer.arm(at: deadline, on: context.eventLoop) { [self] in
            timer.fired()
            guard let oldest = oldestDeadline else { return }
            if oldest <= .now() {
                let error = RedisError(.timeout, "no \(awaited) within \(ioTimeout.nanoseconds / 1_000_000) ms")
                logger.warning("closing \(connectionName)", metadata: ["error": "\(error)"])
                fail(error, context: context)
            } else {
                armTimer(context: context)
            }
        }
    }

    func fail(_ error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes still arriving after a failure cannot be matched to anything; the close is under way.
        guard failure == nil else { return }
        do throws(RedisError) {
            try reader.feed(unwrapInboundIn(data))
            while let reply = try reader.next() {
                try handleReply(reply)
            }
        } catch {
            logger.warning("closing \(connectionName)", metadata: ["error": "\(error)"])
            fail(error, context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closingLocally = true
        context.close(mode: mode, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("\(connectionName) error", metadata: ["error": "\(error)"])
        fail(RedisError(.connectionClosed, "\(error)"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closingLocally && failure == nil { logger.warning("redis server closed the \(connectionName)") }
        failAll(RedisError(.connectionClosed, closingLocally ? "connection closed" : "server closed the connection"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Never leave a caller waiting, however the pipeline is torn down.
        failAll(RedisError(.connectionClosed, "connection closed"))
    }
}
