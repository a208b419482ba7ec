import StrataConfig
import StrataProtocol

/// What the backend decided about an expiring subscription (`SubRefreshResult`).
package struct SubRefreshProxyResult: Sendable, Equatable {
    package var expired = false
    /// Unix seconds; 0: the subscription stops expiring.
    package var expireAt: Int64 = 0
    /// Replaces the subscription's channel info when non-empty.
    package var info: [UInt8]?

    package init() {}
}

/// `sub_refresh_proxy_enabled`: subscriptions reaching their expiry are refreshed by the
/// backend (`SubRefreshRequest`).
package struct SubRefreshProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    /// The result; nil (none given, an error or a disconnect) means expired, as does a result
    /// whose `b64info` is not base64 (decoded as `expired`).
    package func refresh(_ connection: ProxyConnection, channel: String) async -> ProxyOutcome<SubRefreshProxyResult> {
        switch endpoint.wire {
        case .grpc(let backend):
            return await endpoint.call(headers: connection.headers) { try await backend.subRefresh(connection, channel: channel, $0) }
        case .http(let transport):
            let body = Self.encode(connection, channel: channel, config: endpoint.config)
            return await endpoint.call(transport, body: body, headers: connection.headers, decode: Self.decode)
        }
    }

    static func encode(_ c: ProxyConnection, channel: String, config: StrataConfig.Proxy) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.connection(&w, c, binary: config.binaryEncoding)
        ProxyJSON.channel(&w, channel)
        ProxyJSON.meta(&w, c, include: config.includeConnectionMeta)
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }

    static func decode(_ result: JSONValue) throws -> SubRefreshProxyResult {
        var r = SubRefreshProxyResult()
        r.expired = try result.bool("expired")
        r.expireAt = try result.strictInteger("expire_at")
        do {
            r.info = try result.payload("info")
        } catch {
            r.expired = true
        }
        return r
    }
}
