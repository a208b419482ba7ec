import Logging
import NIOCore

/// One message published to a channel this connection subscribed to.
package struct RedisPubSubMessage: Sendable, Hashable {
    package let channel: String
    package let payload: [UInt8]

    package init(channel: String, payload: [UInt8]) {
        self.channel = channel
        self.payload = payload
    }
}

/// What `RedisPubSubConnection` writes into its channel.
struct PubSubRequest: Sendable {
    enum Kind: Sendable {
        case subscribe, unsubscribe, ping
    }

    let kind: Kind
    let channels: [String]
    /// Succeeds once Redis has confirmed every channel (or answered the PING).
    let promise: EventLoopPromise<Void>

    var command: RESPCommand {
        switch kind {
        case .subscribe: RESPCommand("SUBSCRIBE", arguments: channels)
        case .unsubscribe: RESPCommand("UNSUBSCRIBE", arguments: channels)
        case .ping: RESPCommand("PING")
        }
    }

    /// Redis confirms SUBSCRIBE and UNSUBSCRIBE once per channel named, duplicates included.
    var expectedConfirmations: Int { kind == .ping ? 1 : channels.count }
}

/// The handler of a connection in subscribe mode (RESP2).
///
/// Two kinds of arrays arrive, interleaved: pushes (`message`, channel, payload), which go to
/// the message stream, and confirmations (`subscribe`/`unsubscribe`, channel, count, or `pong`),
/// which answer requests in order, like replies on a command connection. When the connection
/// ends, waiting requests fail and the message stream finishes.
final class RedisPubSubHandler: RESPChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PubSubRequest
    typealias OutboundOut = ByteBuffer
    let connectionName = "redis pub/sub connection"
    let awaited = "confirmation"

    private struct Waiting {
        let kind: PubSubRequest.Kind
        var remaining: Int
        let promise: EventLoopPromise<Void>
        let deadline: NIODeadline
        var isProbe = false
    }

    let reader: RESPReader
    let ioTimeout: TimeAmount
    let logger: Logger
    private let messages: AsyncStream<RedisPubSubMessage>.Continuation
    /// When set, messages go here, on the event loop, instead of into `messages`.
    private let onMessage: (@Sendable (RedisPubSubMessage) -> Void)?
    private var waiting = CircularBuffer<Waiting>()
    var oldestDeadline: NIODeadline? { waiting.first?.deadline }
    var oldestIsProbe: Bool { waiting.first?.isProbe ?? false }
    var isIdle: Bool { waiting.isEmpty }
    var probe: RedisProbe
    var timer = DeadlineTimer()
    private(set) var failure: RedisError?
    var closingLocally = false

    init(
        ioTimeout: TimeAmount, probeInterval: TimeAmount = .zero, messages: AsyncStream<RedisPubSubMessage>.Continuation,
        onMessage: (@Sendable (RedisPubSubMessage) -> Void)? = nil, logger: Logger
    ) throws(RedisError) {
        self.reader = try RESPReader()
        self.ioTimeout = ioTimeout
        self.probe = RedisProbe(interval: probeInterval, ioTimeout: ioTimeout)
        self.messages = messages
        self.onMessage = onMessage
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            let error = RedisError(.connectionClosed, failure.code == .connectionClosed ? failure.message : "\(failure)")
            request.promise.fail(error)
            promise?.fail(error)
            return
        }
        let command = request.command
        var buffer = context.channel.allocator.buffer(capacity: command.encodedSize)
        command.encode(into: &buffer)
        waiting.append(
            Waiting(kind: request.kind, remaining: request.expectedConfirmations, promise: request.promise, deadline: .now() + ioTimeout))
        armTimer(context: context)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Messages arriving prove nothing about the answers: only the PING's own does.
    func writeProbe(context: ChannelHandlerContext, deadline: NIODeadline) {
        let request = PubSubRequest(kind: .ping, channels: [], promise: context.eventLoop.makePromise())
        let command = request.command
        var buffer = context.channel.allocator.buffer(capacity: command.encodedSize)
        command.encode(into: &buffer)
        waiting.append(Waiting(kind: .ping, remaining: 1, promise: request.promise, deadline: deadline, isProbe: true))
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func handleReply(_ reply: RESPValue) throws(RedisError) {
        switch reply {
        case .array(let items) where items.count == 3 && items[0].string == "message":
            guard let channel = items[1].string, let payload = items[2].bytes else {
                throw RedisError(.protocolError, "malformed pub/sub message: \(reply)")
            }
            let message = RedisPubSubMessage(channel: channel, payload: payload)
            if let onMessage { onMessage(message) } else { messages.yield(message) }
        case .array(let items) where items.count == 3 && items[0].string == "subscribe":
            try confirm(.subscribe)
        case .array(let items) where items.count == 3 && items[0].string == "unsubscribe":
            try confirm(.unsubscribe)
        case .array(let items) where items.count == 2 && items[0].string == "pong":
            try confirm(.ping)
        case .simpleString("PONG"):
            // PING before the first SUBSCRIBE gets the ordinary reply.
            try confirm(.ping)
        case .error(let message):
            guard let head = waiting.popFirst() else {
                throw RedisError(.protocolError, "error reply with no request waiting: \(message)")
            }
            head.promise.fail(RedisError(.serverError, message))
        default:
            throw RedisError(.protocolError, "unexpected reply on a pub/sub connection: \(reply)")
        }
    }

    private func confirm(_ kind: PubSubRequest.Kind) throws(RedisError) {
        guard let head = waiting.first, head.kind == kind else {
            throw RedisError(.protocolError, "\(kind) confirmation with no matching request waiting")
        }
        if head.remaining > 1 {
            waiting[waiting.startIndex].remaining -= 1
        } else {
            waiting.removeFirst()
            head.promise.succeed()
        }
    }

    func failAll(_ error: RedisError) {
        let error = failure ?? error
        failure = error
        timer.cancel()
        while let head = waiting.popFirst() { head.promise.fail(error) }
        messages.finish()
    }
}
