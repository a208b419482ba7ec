import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of Strata's router: Hummingbird's WebSocket context plus the connection's
/// NIO channel, which stays the same channel after the upgrade and which `ChannelFrameWriter`
/// writes frames into directly.
package struct StrataRequestContext: RequestContext, WebSocketRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let webSocket: WebSocketHandlerReference<Self>
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
