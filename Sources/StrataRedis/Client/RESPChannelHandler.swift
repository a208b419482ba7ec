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
    /// Whether the oldest waiting request is a liveness PING (for the timeout's message).
    var oldestIsProbe: Bool { get }
    /// The liveness probe's schedule; nil: no probe.
    var probe: RedisProbe { get set }
    /// No request waits for an answer.
    var isIdle: Bool { get }
    /// Queues a liveness PING whose answer is due by `deadline` and writes it.
    func writeProbe(context: ChannelHandlerContext, deadline: NIODeadline)

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
                let error =
                    oldestIsProbe
                    ? RedisError(.timeout, "no answer to the liveness PING within \(probe.timeout.nanoseconds / 1_000_000) ms")
                    : RedisError(.timeout, "no \(awaited) within \(ioTimeout.nanoseconds / 1_000_000) ms")
                logger.warning("closing \(connectionName)", metadata: ["error": "\(error)"])
                fail(error, context: context)
            } else {
                armTimer(context: context)
            }
        }
    }

    func fail(_ error: RedisError, context: ChannelHandlerContext) {
        probe.stop()
        failAll(error)
        context.close(promise: nil)
    }

    /// Every `probe.interval` that the connection has nothing waiting, a PING due within
    /// `probe.timeout`: a server that stops answering (SIGSTOP, a hung host, a link that drops
    /// without FIN or RST) fails the connection within an interval plus the timeout, even when
    /// no caller is using it, instead of whenever the next command happens to come.
    func startProbing(context: ChannelHandlerContext) {
        guard probe.interval > .zero, !probe.isRunning, failure == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        probe.task = context.eventLoop.scheduleRepeatedTask(initialDelay: probe.interval, delay: probe.interval) { _ in
            let (handler, context) = bound.value
            guard handler.failure == nil, handler.isIdle else { return }
            handler.writeProbe(context: context, deadline: .now() + handler.probe.timeout)
            handler.armTimer(context: context)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startProbing(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startProbing(context: context)
        context.fireChannelActive()
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
        probe.stop()
        if !closingLocally && failure == nil { logger.warning("redis server closed the \(connectionName)") }
        failAll(RedisError(.connectionClosed, closingLocally ? "connection closed" : "server closed the connection"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Never leave a caller waiting, however the pipeline is torn down.
        probe.stop()
        failAll(RedisError(.connectionClosed, "connection closed"))
    }
}

/// A connection's liveness probe: its interval (zero: none), how long a PING may take (the
/// smaller of the interval and `io_timeout`, so a stopped server is noticed within two
/// intervals), and the repeating task while it runs. Event-loop confined, like its handler.
struct RedisProbe {
    let interval: TimeAmount
    let timeout: TimeAmount
    var task: RepeatedTask?

    init(interval: TimeAmount, ioTimeout: TimeAmount) {
        self.interval = interval
        self.timeout = min(interval, ioTimeout)
    }

    var isRunning: Bool { task != nil }

    mutating func stop() {
        task?.cancel()
        task = nil
    }
}
