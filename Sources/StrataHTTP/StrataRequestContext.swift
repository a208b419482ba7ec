import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of Strata's router: Hummingbird's WebSocket context plus the connection's
/// NIO channel, which stays the same channel after the upgrade and which `ChannelFrameWriter`
/// writes frames into directly.
public struct StrataRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
