import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import StrataCore

/// The plain-HTTP listener of `tls_autocert.http` / `http_addr`: answers the CA's HTTP-01
/// requests (`/.well-known/acme-challenge/<token>`) and sends every other GET or HEAD to the
/// same place over HTTPS, as Go's autocert handler does (other methods get 400).
///
/// It is bound before the certificates are had (the CA fetches from it while Strata starts)
/// and runs as a service until the graceful shutdown.
package final class ChallengeListener: Service, Sendable {
    let host: String
    let port: Int
    let tokens: ChallengeTokens
    /// The HTTPS port redirects point at (omitted from the URL when 443).
    let httpsPort: Int
    let logger: Logger
    private let channel = Locked<(any Channel)?>(nil)

    package init(host: String, port: Int, tokens: ChallengeTokens, httpsPort: Int, logger: Logger) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.httpsPort = httpsPort
        self.logger = logger
    }

    /// Starts listening; throws when the address cannot be bound (in use, or port 80 without
    /// the privilege).
    package func bind(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let tokens = tokens
        let httpsPort = httpsPort
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ChallengeHandler(tokens: tokens, httpsPort: httpsPort))
                }
            }
            .bind(host: host, port: port).get()
        channel.withLock { $0 = server }
        logger.info("ACME challenge listener", metadata: ["address": "\(server.localAddress?.description ?? "")"])
    }

    /// The bound port (the configured one, or the one the system chose for port 0).
    package var boundPort: Int? {
        channel.withLock { $0?.localAddress?.port }
    }

    package func run() async throws {
        guard let server = channel.withLock({ $0 }) else { return }
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
    }

    /// Closes the listener (a start that failed after it was bound).
    package func close() async {
        try? await channel.withLock({ $0 })?.close()
    }
}

/// One request per connection: the answer, then close.
private final class ChallengeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let tokens: ChallengeTokens
    let httpsPort: Int
    var request: HTTPRequestHead?

    init(tokens: ChallengeTokens, httpsPort: Int) {
        self.tokens = tokens
        self.httpsPort = httpsPort
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let request else { return }
            respond(context: context, to: request)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let path = String(request.uri.prefix { $0 != "?" })
        var headers = HTTPHeaders([("Connection", "close")])
        let status: HTTPResponseStatus
        var body = ""
        if path.hasPrefix(ChallengeTokens.pathPrefix) {
            if let answer = tokens.response(forPath: path) {
                status = .ok
                body = answer
            } else {
                status = .notFound
                body = "no such ACME challenge\n"
            }
            headers.add(name: "Content-Type", value: "text/plain")
        } else if request.method == .GET || request.method == .HEAD, let host = request.headers.first(name: "Host") {
            status = .found
            headers.add(name: "Location", value: redirect(host: host, uri: request.uri))
        } else {
            status = .badRequest
            body = "Use HTTPS\n"
            headers.add(name: "Content-Type", value: "text/plain")
        }
        headers.add(name: "Content-Length", value: "\(request.method == .HEAD ? 0 : body.utf8.count)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// `https://host[:port]/uri`: the request's host without its port, the HTTPS port added
    /// when it is not 443.
    private func redirect(host: String, uri: String) -> String {
        var name = Substring(host)
        if name.hasPrefix("[") {
            name = Substring(name.prefix { $0 != "]" } + "]")
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        return "https://\(name)\(httpsPort == 443 ? "" : ":\(httpsPort)")\(uri.hasPrefix("/") ? uri : "/")"
    }
}
