import NIOCore
import NIOHTTPTypesHTTP1

/// Puts handlers that work on NIO's HTTP/1 parts (`HTTPServerRequestPart`) in front of
/// Hummingbird's HTTP/1 → HTTP types codec.
///
/// Hummingbird adds a connection's extra handlers after that codec, once the first request shows
/// the connection is not a WebSocket upgrade. Added there in their place, the installer moves the
/// handlers in front of the codec and takes itself out, before any request part has arrived
/// (the upgrade handler replays the first request after the pipeline is set up).
final class HTTP1HandlerInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let handlers: [any ChannelHandler]

    init(_ handlers: [any ChannelHandler]) {
        self.handlers = handlers
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            for handler in handlers { try pipeline.addHandler(handler, position: .before(codec)) }
        } catch {
            // No codec where Hummingbird always puts one: a Hummingbird this code was not written
            // for. Serving requests without the handlers would be wrong, so the connection fails.
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable)
extension HTTP1HandlerInstaller: Sendable {}
