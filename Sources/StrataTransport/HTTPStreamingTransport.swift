import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StrataCore
import StrataHTTP
import StrataHub
import StrataProtocol

/// The transports on plain HTTP responses. The emulated bidirectional ones (transports.md §4):
/// HTTP-streaming (`/connection/http_stream`) and SSE (`/connection/sse`) carry the server's
/// replies down a long response, and the client's later commands come as `POST /emulation`
/// requests naming the connection by session and node. The one-way ones (§5): `uni_sse` and
/// `uni_http_stream` take one connect request and stream pushes. This value holds what every
/// connection's handler (`HTTPStreamingHandler`) shares: the paths, limits, origins and the
/// open emulated connections.
package struct HTTPStreamingTransport: Sendable {
    package struct Options: Sendable {
        /// `http_stream.*`, `sse.*` and `emulation.*`: path and request body limit; nil when off.
        package var httpStream: Endpoint?
        package var sse: Endpoint?
        package var emulation: Endpoint
        /// `uni_sse.*`, `uni_http_stream.*`; nil when off.
        package var uniSSE: Endpoint?
        package var uniHTTPStream: Endpoint?
        /// `client.allowed_origins`, for the CORS headers.
        package var allowedOrigins: [String]

        package init(
            httpStream: Endpoint?, sse: Endpoint?, emulation: Endpoint, uniSSE: Endpoint? = nil, uniHTTPStream: Endpoint? = nil,
            allowedOrigins: [String]
        ) {
            self.httpStream = httpStream
            self.sse = sse
            self.emulation = emulation
            self.uniSSE = uniSSE
            self.uniHTTPStream = uniHTTPStream
            self.allowedOrigins = allowedOrigins
        }
    }

    package struct Endpoint: Sendable {
        package var path: String
        package var maxBodySize: Int
        /// `connect_code_to_http_response` (one-way streams): nil when not enabled.
        package var refusals: [Refusal]?

        /// Centrifugo registers the prefix without its trailing slash as an exact path.
        package init(path: String, maxBodySize: Int, refusals: [Refusal]? = nil) {
            var p = path
            while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
            self.path = p.isEmpty ? "/" : p
            self.maxBodySize = maxBodySize
            self.refusals = refusals
        }
    }

    /// A refused one-way connect's HTTP answer: for this error or disconnect code, this status
    /// and body (empty: the error's message or the disconnect's reason).
    package struct Refusal: Sendable {
        package var code: Int
        package var status: Int
        package var body: String

        package init(code: Int, status: Int, body: String) {
            self.code = code
            self.status = status
            self.body = body
        }
    }

    /// The answer to a refused connect (transports.md §5.1): the first transform whose code is
    /// the disconnect's or the connect error's; none: 500.
    static func refusal(_ refusals: [Refusal], disconnect: Disconnect, error: StrataError?) -> (status: HTTPResponseStatus, body: String) {
        if let r = refusals.first(where: { $0.code == Int(disconnect.code) }) {
            return (HTTPResponseStatus(statusCode: r.status), r.body.isEmpty ? disconnect.reason : r.body)
        }
        if let error, let r = refusals.first(where: { $0.code == Int(error.code) }) {
            return (HTTPResponseStatus(statusCode: r.status), r.body.isEmpty ? error.message : r.body)
        }
        return (.internalServerError, "Internal Server Error")
    }

    enum Route {
        case httpStream, sse, emulation, uniSSE, uniHTTPStream
    }

    let sessions: SessionFactory
    let options: Options
    let origins: OriginCheck
    let connections = EmulatedConnections()
    let batchers = PerEventLoop { DrainBatcher(eventLoop: $0) }
    let executors = PerEventLoop { EventLoopTaskExecutor($0) }

    package init(sessions: SessionFactory, options: Options) {
        self.sessions = sessions
        self.options = options
        self.origins = OriginCheck(allowedOrigins: options.allowedOrigins)
    }

    /// Whether an emulated transport is on (and with it `/emulation`).
    var emulates: Bool { options.httpStream != nil || options.sse != nil }

    /// Whether any of these transports is on (else no connection needs the handler).
    package var isEnabled: Bool { emulates || options.uniSSE != nil || options.uniHTTPStream != nil }

    /// A new connection's handler.
    package func makeHandler() -> any ChannelHandler {
        HTTPStreamingHandler(transport: self)
    }

    func route(_ path: Substring) -> (Route, Endpoint)? {
        if let e = options.httpStream, path == e.path { return (.httpStream, e) }
        if let e = options.sse, path == e.path { return (.sse, e) }
        if let e = options.uniSSE, path == e.path { return (.uniSSE, e) }
        if let e = options.uniHTTPStream, path == e.path { return (.uniHTTPStream, e) }
        if emulates, path == options.emulation.path { return (.emulation, options.emulation) }
        return nil
    }

    /// CORS headers (transports.md §1.2): for an allowed origin, the origin echoed with
    /// credentials allowed and the requested headers; nothing for a refused one (the request is
    /// still served, as Centrifugo does, and the browser hides the response).
    func corsHeaders(_ request: HTTPRequestHead) -> [(String, String)] {
        guard let origin = request.headers.first(name: "origin"), !origin.isEmpty, origins.allows(origin) else { return [] }
        var headers = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        if let asked = request.headers.first(name: "access-control-request-headers"), !asked.isEmpty, asked != "null" {
            headers.append(("Access-Control-Allow-Headers", asked))
        }
        return headers
    }

    /// The headers of a stream's 200 response (transports.md §4.2, §4.3): never cached, never
    /// buffered by a proxy.
    static let streamHeaders: [(String, String)] = [
        ("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0"), ("Pragma", "no-cache"), ("Expire", "0"),
        ("X-Accel-Buffering", "no"), ("Connection", "keep-alive"),
    ]

    static let preflightHeaders: [(String, String)] = [("Access-Control-Max-Age", "300"), ("Access-Control-Allow-Methods", "POST, OPTIONS")]
}
