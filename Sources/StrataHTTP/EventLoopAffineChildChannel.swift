import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Hummingbird's HTTP/1 + WebSocket child channel, with each connection's task run on the
/// connection's own event loop (`EventLoopTaskExecutor`). Child tasks the handler starts in task
/// groups inherit the preference; unstructured tasks do not.
package struct EventLoopAffineChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    package typealias Value = Inner.Value
    let inner: Inner

    package init(_ inner: Inner) {
        self.inner = inner
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    package func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// `http1WebSocketUpgrade`, with connection tasks on their event loops. `channelHandlers` go
    /// into each plain HTTP connection's pipeline right after NIO's HTTP/1 decoder, before
    /// Hummingbird's conversion to HTTP types, and see NIO's HTTP/1 parts (the server API's
    /// `APIChannelHandler` answers there).
    package static func strataHTTP1WebSocket<WSRouter: HTTPResponderBuilder>(
        webSocketRouter: WSRouter, configuration: WebSocketServerConfiguration,
        channelHandlers: @escaping @Sendable () -> [any ChannelHandler] = { [] }
    ) -> HTTPServerBuilder where WSRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            EventLoopAffineChildChannel(
                HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(
                        http1: .init(additionalChannelHandlers: [HTTP1HandlerInstaller(channelHandlers())], idleTimeout: nil),
                        ws: configuration)))
        }
    }
}
