import NIOCore

/// Closes an HTTP connection on which nothing has been read or written for `timeout` (30 s,
/// Centrifugo's idle timeout): a keep-alive connection left idle, a request whose head or body
/// stops halfway. Without it such connections stayed open forever, and a client could exhaust
/// the server's sockets with them (docs/reliability.md, "Hostile clients").
///
/// It sits first in the pipeline, next to the socket, and only looks at the traffic's timing.
/// A connection that becomes long-lived on purpose takes it out: the WebSocket upgrade and the
/// HTTP streams (their own pings and write timeouts watch them from then on).
package final class HTTPIdleTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundIn = ByteBuffer

    /// The handler's name in the pipeline, for whoever removes it.
    package static let name = "strata.http-idle-timeout"
    package static let defaultTimeout = TimeAmount.seconds(30)

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var check: Scheduled<Void>?

    package init(timeout: TimeAmount = HTTPIdleTimeout.defaultTimeout) {
        self.timeout = timeout
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        schedule(context, at: lastActivity + timeout)
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    package func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    /// One timer per connection, moved only when it fires: traffic just stamps the time.
    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.fire(context)
        }
    }

    private func fire(_ context: ChannelHandlerContext) {
        check = nil
        let idleUntil = lastActivity + timeout
        if idleUntil <= context.eventLoop.now {
            context.close(promise: nil)
        } else {
            schedule(context, at: idleUntil)
        }
    }
}
