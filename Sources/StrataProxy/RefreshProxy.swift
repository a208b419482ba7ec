import StrataConfig
import StrataProtocol

/// What the backend decided about an expiring connection (`RefreshResult`).
package struct RefreshProxyResult: Sendable, Equatable {
    package var expired = false
    /// Unix seconds; 0: not given.
    package var expireAt: Int64 = 0
    /// Replaces the connection's info when given.
    package var info: [UInt8]?
    /// Replaces the connection's meta when given.
    package var meta: [UInt8]?
    /// `b64info` was not base64: Centrifugo ends the connection (3004) rather than retrying.
    package var invalidInfo = false

    package init() {}
}

/// `client.proxy.refresh`: connections reaching their expiry are refreshed by the backend
/// (`RefreshRequest`), not by the client.
package struct RefreshProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    /// The result, nil when the backend gave none (or an error or disconnect: both mean expired).
    package func refresh(_ connection: ProxyConnection) async -> ProxyOutcome<RefreshProxyResult> {
        switch endpoint.wire {
        case .grpc(let backend):
            await endpoint.call(headers: connection.headers) { try await backend.refresh(connection, $0) }
        case .http(let transport):
            await endpoint.call(transport, body: Self.encode(connection, config: endpoint.config), headers: connection.headers, decode: Self.decode)
        }
    }

    static func encode(_ c: ProxyConnection, config: StrataConfig.Proxy) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.connection(&w, c, binary: config.binaryEncoding)
        ProxyJSON.meta(&w, c, include: config.includeConnectionMeta)
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }

    static func decode(_ result: JSONValue) throws -> RefreshProxyResult {
        var r = RefreshProxyResult()
        r.expired = try result.bool("expired")
        r.expireAt = try result.strictInteger("expire_at")
        r.meta = try result.payload("meta")
        do {
            r.info = try result.payload("info")
        } catch {
            r.invalidInfo = true
        }
        return r
    }
}
