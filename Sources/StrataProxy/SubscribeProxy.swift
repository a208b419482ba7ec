import StrataConfig
import StrataProtocol

/// What the backend decided about a client's subscribe (`SubscribeResult`).
package struct SubscribeProxyResult: Sendable, Equatable {
    /// Unix seconds; 0: the subscription does not expire.
    package var expireAt: Int64 = 0
    /// Channel info, data for the client, and overrides of the namespace's options.
    package var options = ProxySubscribeOptions()

    package init() {}
}

/// `subscribe_proxy_enabled`: a client's subscribe into the namespace is decided by the backend
/// (`SubscribeRequest`).
package struct SubscribeProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    /// The result, nil when none was given (the subscription is allowed with the namespace's options).
    package func subscribe(_ connection: ProxyConnection, channel: String, data: [UInt8]?) async -> ProxyOutcome<SubscribeProxyResult> {
        switch endpoint.wire {
        case .grpc(let backend):
            return await endpoint.call(headers: connection.headers) { try await backend.subscribe(connection, channel: channel, data: data, $0) }
        case .http(let transport):
            guard let body = Self.encode(connection, channel: channel, data: data, config: endpoint.config) else {
                return .failed("the subscribe data is not JSON (turn on binary_encoding for binary data)")
            }
            return await endpoint.call(transport, body: body, headers: connection.headers, decode: Self.decode)
        }
    }

    /// Keys in proto order: the connection's, `channel`, `meta`, `data` (the `token` key of the
    /// proto never appears: a subscribe with a token is checked by its token).
    static func encode(_ c: ProxyConnection, channel: String, data: [UInt8]?, config: StrataConfig.Proxy) -> [UInt8]? {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.connection(&w, c, binary: config.binaryEncoding)
        ProxyJSON.channel(&w, channel)
        ProxyJSON.meta(&w, c, include: config.includeConnectionMeta)
        guard ProxyJSON.payload(&w, data, binary: config.binaryEncoding) else { return nil }
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }

    static func decode(_ result: JSONValue) throws -> SubscribeProxyResult {
        var r = SubscribeProxyResult()
        r.expireAt = try result.strictInteger("expire_at")
        r.options = try ProxySubscribeOptions.decode(result)
        return r
    }
}
