import Hummingbird
import NIOCore

/// The request context of Strata's router: Hummingbird's plus the connection's NIO channel.
package struct StrataRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
