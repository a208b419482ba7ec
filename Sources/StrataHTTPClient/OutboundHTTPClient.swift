import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The server's rare requests to elsewhere — an ACME CA (a directory, nonces, signed POSTs, a
/// certificate chain), a JWKS document: one connection per request over SwiftNIO and
/// swift-nio-ssl.
///
/// Why not a general HTTP client: these are a few requests an hour at most, so pooling,
/// redirects and HTTP/2 buy nothing; a page of NIO does what is needed with the TLS stack the
/// server already links, and no second event loop group.
package struct OutboundHTTPClient: Sendable {
    package struct Response: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: [UInt8]
    }

    package enum Failure: Error, CustomStringConvertible {
        case badURL(String)
        case unreachable(String, any Error)
        case timedOut(String)
        case status(String, Int)

        package var description: String {
            switch self {
            case .badURL(let url): "not an http(s) URL: \(url)"
            case .unreachable(let url, let error): "\(url): \(error)"
            case .timedOut(let url): "\(url): no answer within the time limit"
            case .status(let url, let status): "\(url) answered \(status)"
            }
        }
    }

    let group: any EventLoopGroup
    let tls: NIOSSLContext
    let timeout: TimeAmount

    /// `trustRoots`: PEM certificates to trust instead of the system's (a private CA's, an ACME
    /// test server's); empty: the system's trust store.
    package init(trustRoots: String = "", timeout: TimeAmount = .seconds(30), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !trustRoots.isEmpty {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustRoots.utf8)))
        }
        tls = try NIOSSLContext(configuration: configuration)
        self.group = group
        self.timeout = timeout
    }

    package func get(_ url: String) async throws -> Response {
        try await send(.GET, url)
    }

    /// The body of a 200 answer; any other status throws.
    package func fetch(_ url: String) async throws -> [UInt8] {
        let response = try await send(.GET, url)
        guard response.status == 200 else { throw Failure.status(url, response.status) }
        return response.body
    }

    package func head(_ url: String) async throws -> Response {
        try await send(.HEAD, url)
    }

    package func post(_ url: String, body: [UInt8], contentType: String) async throws -> Response {
        try await send(.POST, url, body: body, contentType: contentType)
    }

    private func send(_ method: HTTPMethod, _ url: String, body: [UInt8] = [], contentType: String? = nil) async throws -> Response {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = parsed.host, !host.isEmpty
        else { throw Failure.badURL(url) }
        let port = parsed.port ?? (scheme == "https" ? 443 : 80)
        var target = parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath
        if let query = parsed.percentEncodedQuery { target += "?" + query }

        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: parsed.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "User-Agent", value: "strata-acme")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Connection", value: "close")
        if method == .POST {
            head.headers.add(name: "Content-Length", value: "\(body.count)")
            if let contentType { head.headers.add(name: "Content-Type", value: contentType) }
        }

        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Response.self)
        let timeout = eventLoop.scheduleTask(in: timeout) { promise.fail(Failure.timedOut(url)) }
        let tls = scheme == "https" ? tls : nil
        // SNI carries names only; a literal address is checked against the certificate's IP entries.
        let serverName = host.isIPAddress ? nil : host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(self.timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            timeout.cancel()
            promise.fail(error)
            throw Failure.unreachable(url, error)
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure.unreachable(url, error)
        }
    }
}

/// Gathers one response; the first of end, error or close settles the promise.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<OutboundHTTPClient.Response>
    var response: OutboundHTTPClient.Response?

    /// (A HEAD response has no body: NIO's decoder sees the request go out and knows.)
    init(promise: EventLoopPromise<OutboundHTTPClient.Response>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = .init(status: Int(head.status.code), headers: head.headers, body: [])
        case .body(var buffer):
            // Answers here are small JSON documents or certificate chains: 1 MiB is plenty.
            if (response?.body.count ?? 0) + buffer.readableBytes > 1 << 20 {
                promise.fail(ChannelError.inputClosed)
                context.close(promise: nil)
                return
            }
            response?.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if let response { promise.succeed(response) }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}

extension String {
    /// A literal IPv4 or IPv6 address (which TLS's SNI cannot carry).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
