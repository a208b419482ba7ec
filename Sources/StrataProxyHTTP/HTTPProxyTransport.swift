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

    package init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        var configuration = HTTPClient.Configuration()
        // Centrifugo's Go client keeps up to 100 idle connections per host; a connect storm
        // needs many at once.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    package func post(_ endpoint: String, body: [UInt8], headers: [StrataConfig.HeaderField], timeoutMillis: Int64) async throws
        -> (status: Int, body: [UInt8])
    {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        for header in headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        // The timeout is the whole call, answer read included (as Go's http.Client.Timeout).
        let deadline = NIODeadline.now() + .milliseconds(timeoutMillis)
        let response = try await client.execute(request, deadline: deadline)
        let answer = try await withDeadline(deadline) { [bodyLimit] in try await response.body.collect(upTo: bodyLimit) }
        return (Int(response.status.code), Array(buffer: answer))
    }

    /// Closes the pooled connections (when the server stops).
    package func shutdown() async {
        try? await client.shutdown()
    }
}

/// Runs `body`, throwing when `deadline` passes first.
private func withDeadline<T: Sendable>(_ deadline: NIODeadline, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            let left = deadline - .now()
            if left.nanoseconds > 0 { try await Task.sleep(nanoseconds: UInt64(left.nanoseconds)) }
            throw ChannelError.connectTimeout(.zero)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}
