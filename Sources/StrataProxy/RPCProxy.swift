import StrataConfig
import StrataProtocol

/// What an RPC request tells the backend (`RPCRequest`).
package struct RPCProxyRequest: Sendable {
    package var client = ""
    package var transport = ""
    package var protocolName = "json"
    /// Sent always, `""` for an anonymous connection (Centrifugo never omits it).
    package var user = ""
    package var method = ""
    package var data: [UInt8]?

    package init() {}
}

/// `rpc.proxy`: a client's RPC into a proxied namespace is answered by the backend.
package struct RPCProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    package var forwardedHeaderNames: [String] { endpoint.config.httpHeaders }

    /// The answer's data for the client (`b64data` wins when non-empty; no result: no data).
    package func call(_ request: RPCProxyRequest, headers: [StrataConfig.HeaderField]) async -> ProxyOutcome<[UInt8]?> {
        guard let body = Self.encode(request, binary: endpoint.config.binaryEncoding) else {
            return .failed("the RPC data is not JSON (turn on binary_encoding for binary data)")
        }
        return await endpoint.call(body: body, forwarded: headers) { result in try result.payload("data") }
    }

    static func encode(_ r: RPCProxyRequest, binary: Bool) -> [UInt8]? {
        var w = JSONWriter()
        w.beginObject()
        ProxyJSON.common(&w, client: r.client, transport: r.transport, protocolName: r.protocolName, binary: binary)
        w.key("user")
        w.string(r.user)
        if !r.method.isEmpty {
            w.key("method")
            w.string(r.method)
        }
        guard ProxyJSON.payload(&w, r.data, binary: binary) else { return nil }
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }
}
