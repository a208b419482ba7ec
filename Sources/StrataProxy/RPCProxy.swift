import StrataConfig
import StrataProtocol

/// `rpc.proxy` (or a named proxy): a client's RPC into a proxied namespace is answered by the
/// backend (`RPCRequest`).
package struct RPCProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    /// The answer's data for the client (`b64data` wins when non-empty; no result: no data).
    package func call(_ connection: ProxyConnection, method: String, data: [UInt8]?) async -> ProxyOutcome<[UInt8]?> {
        switch endpoint.wire {
        case .grpc(let backend):
            return await endpoint.call(headers: connection.headers) { try await backend.rpc(connection, method: method, data: data, $0) }
        case .http(let transport):
            guard let body = Self.encode(connection, method: method, data: data, config: endpoint.config) else {
                return .failed("the RPC data is not JSON (turn on binary_encoding for binary data)")
            }
            return await endpoint.call(transport, body: body, headers: connection.headers) { result in try result.payload("data") }
        }
    }

    /// Keys in proto order: the connection's, `method` (absent when empty), `data`, `meta`.
    static func encode(_ c: ProxyConnection, method: String, data: [UInt8]?, config: StrataConfig.Proxy) -> [UInt8]? {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.connection(&w, c, binary: config.binaryEncoding)
        if !method.isEmpty {
            w.key("method")
            w.string(method)
        }
        guard ProxyJSON.payload(&w, data, binary: config.binaryEncoding) else { return nil }
        ProxyJSON.meta(&w, c, include: config.includeConnectionMeta)
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }
}
