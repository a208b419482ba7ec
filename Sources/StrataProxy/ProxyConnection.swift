import StrataConfig

/// The connection a proxy request is about: the fields every request but connect's starts with
/// (`client`, `transport`, `protocol`, then `encoding` from the proxy, then `user`, always, `""`
/// for an anonymous connection), its `meta`, and the headers a proxy may forward.
package struct ProxyConnection: Sendable {
    package var client = ""
    /// `websocket`, `http_stream`, `sse`, `uni_websocket`, `uni_sse`, `uni_http_stream`, `uni_grpc`.
    package var transport = ""
    /// `json` or `protobuf`.
    package var protocolName = "json"
    package var user = ""
    /// Included by proxies with `include_connection_meta`.
    package var meta: [UInt8]?
    package var headers = ProxyHeaders()

    package init() {}
}

/// Headers a proxy request may carry besides its static ones: those of the HTTP request that
/// opened the connection, or for a uni_grpc connection its call's metadata (either kept only
/// when some proxy forwards them), and the emulated ones from the connect command's `headers`
/// map (set by the client). Each proxy forwards the names it lists.
package struct ProxyHeaders: Sendable {
    package var transport: [StrataConfig.HeaderField] = []
    package var emulated: [StrataConfig.HeaderField] = []
    /// Lower-case keys, as gRPC gives them.
    package var metadata: [StrataConfig.HeaderField] = []

    package init(
        transport: [StrataConfig.HeaderField] = [], emulated: [StrataConfig.HeaderField] = [], metadata: [StrataConfig.HeaderField] = []
    ) {
        self.transport = transport
        self.emulated = emulated
        self.metadata = metadata
    }

    /// A header name as Go's `http.Header` writes it (`X-Real-Ip`).
    package static func canonical(_ name: String) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "-")
    }
}
