import NIOCore
import NIOHTTP1
import StrataHTTP
import StrataHub

/// What the two WebSocket endpoints (bidirectional and one-way) share: the sessions, the origin
/// rule, the per-loop drain batchers, task executors and zlib streams, and permessage-deflate's
/// negotiation.
struct WebSocketEndpointParts: Sendable {
    let sessions: SessionFactory
    let origins: OriginCheck
    let compression: MessageDeflateOptions?
    let batchers = PerEventLoop { DrainBatcher(eventLoop: $0) }
    let executors = PerEventLoop { EventLoopTaskExecutor($0) }
    private let deflaters: PerEventLoop<LoopDeflate>

    init(sessions: SessionFactory, allowedOrigins: [String], compression: MessageDeflateOptions?) {
        self.sessions = sessions
        self.origins = OriginCheck(allowedOrigins: allowedOrigins)
        self.compression = compression
        let level = compression?.level ?? 1
        self.deflaters = PerEventLoop { _ in LoopDeflate(level: level) }
    }

    /// Whether the request's `Origin` passes `client.allowed_origins`.
    func allowsOrigin(_ head: HTTPRequestHead) -> Bool {
        origins.allows(head.headers.first(name: "origin"))
    }

    /// permessage-deflate for this request: configured and offered.
    func deflate(_ head: HTTPRequestHead, on loop: any EventLoop) -> MessageDeflate? {
        guard let compression, MessageDeflateOptions.offered(head.headers) else { return nil }
        return MessageDeflate(options: compression, streams: deflaters(loop))
    }

    /// The 101 response's extension header when permessage-deflate is agreed.
    func addExtensionHeader(for head: HTTPRequestHead, to headers: inout HTTPHeaders) {
        if compression != nil, MessageDeflateOptions.offered(head.headers) {
            headers.add(name: "sec-websocket-extensions", value: MessageDeflateOptions.responseHeader)
        }
    }
}
