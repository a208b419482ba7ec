import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import StrataConfig
import StrataProxy

/// Proxy requests over HTTP with async-http-client: a pool of keep-alive connections per
/// backend host on the server's own event loops, so a connect storm reuses connections instead
/// of opening one per client, and a call never blocks an event loop (it is awaited by the
/// client's command task). A slow backend holds only the calls waiting for it.
package final class HTTPProxyTransport: ProxyTransport {
    private let client: HTTPClient
    /// The largest answer read; a backend answering more is refused (the call fails).
    private let bodyLimit = 4 << 20

    /// `readTimeout`: the longest silence while an answer is read (the proxies' timeout), so a
    /// backend that sends its headers and then stalls is cut off too.
    package init(readTimeout: TimeAmount, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: readTimeout, read: readTimeout)
        // Centrifugo's Go client keeps up to 100 idle connections per host; a connect storm
        // needs many at once.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        configuration.httpVersion = .http1Only
        // No tracing spans: even with the default no-op tracer the client parses every request's
        // URL for span attributes (about 4 % of a proxied RPC's CPU in a profile).
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    package func post(_ endpoint: String, body: [UInt8], headers: [StrataConfig.HeaderField], timeoutMillis: Int64) async throws
        -> (status: Int, body: [UInt8])
    {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        // The list is final (overrides resolved by the endpoint); a forwarded header may repeat.
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        // The deadline runs until the answer's head; the body of an answer (small JSON, which
        // comes with the head) is bounded by the read timeout. No task per call for a timer.
        let response = try await client.execute(request, deadline: .now() + .milliseconds(timeoutMillis))
        let answer = try await response.body.collect(upTo: bodyLimit)
        return (Int(response.status.code), Array(buffer: answer))
    }

    /// Closes the pooled connections (when the server stops).
    package func shutdown() async {
        try? await client.shutdown()
    }
}
