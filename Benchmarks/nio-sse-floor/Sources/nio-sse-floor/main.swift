import NIOCore
import NIOHTTP1
import NIOPosix

// What an SSE fan-out costs on SwiftNIO when nothing else runs: no sessions, no queues, no
// positions, no history. It speaks Nchan's publisher/EventSource endpoints, so the load
// generator's `-proto nchan-sse` drives it exactly as it drives Nchan:
//   GET  /sub?channel=X   an SSE stream (HTTP/1.1 chunked), every publication as `data: <body>`
//   POST /pub?channel=X   the body goes to every subscriber (one channel: X is not looked at)
// Each publication is framed once (one chunk, shared) and each subscriber costs one write and
// one flush from the response encoder's place in the pipeline — what Strata's stream writer
// does per delivery. One event loop, as on the one CPU the benchmarks pin servers to.

/// The subscribers' encoder contexts; touched only on the single event loop.
final class Subscribers: @unchecked Sendable {
    var contexts: [ChannelHandlerContext] = []
}

final class FloorHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let subscribers: Subscribers
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(subscribers: Subscribers) { self.subscribers = subscribers }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            if head.uri.hasPrefix("/sub") {
                subscribe(context: context, version: head.version)
            } else if head.uri.hasPrefix("/pub") {
                publish(context: context, version: head.version)
            } else {
                answer(context: context, version: head.version, text: "ok\n")
            }
        }
    }

    private func subscribe(context: ChannelHandlerContext, version: HTTPVersion) {
        let headers = HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked")])
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
        guard let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else { return }
        subscribers.contexts.append(encoder)
        let gone = ObjectIdentifier(encoder)
        context.channel.closeFuture.whenComplete { [subscribers] _ in subscribers.contexts.removeAll { ObjectIdentifier($0) == gone } }
    }

    private func publish(context: ChannelHandlerContext, version: HTTPVersion) {
        let size = "data: ".utf8.count + body.readableBytes + 2
        var chunk = context.channel.allocator.buffer(capacity: size + 16)
        chunk.writeString(String(size, radix: 16) + "\r\ndata: ")
        chunk.writeBuffer(&body)
        chunk.writeString("\n\n\r\n")
        for subscriber in subscribers.contexts {
            subscriber.writeAndFlush(NIOAny(chunk), promise: nil)
        }
        answer(context: context, version: version, text: "")
    }

    private func answer(context: ChannelHandlerContext, version: HTTPVersion, text: String) {
        let headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
        if !text.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 18200
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let subscribers = Subscribers()
let server = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(FloorHandler(subscribers: subscribers))
        }
    }
    .bind(host: "127.0.0.1", port: port).get()
print("nio-sse-floor on 127.0.0.1:\(port)")
try await server.closeFuture.get()
