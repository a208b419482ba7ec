import StrataConfig

/// A backend reached over gRPC (Centrifugo's `proxy.proto`, service `CentrifugoProxy`): one
/// typed call per event, each answering with the response's `result`, `error` or `disconnect`.
/// The implementation (StrataProxyGRPC) maps these types to the proto messages, so the event
/// logic here stays the same for both protocols and holds no gRPC code; tests give a fake.
///
/// Unlike the HTTP proxy's JSON, the messages carry payloads as bytes, so `data` need not be
/// JSON; with `binary_encoding` it still goes as base64 `b64data`, as Centrifugo sends it.
/// A call throws when there is no usable answer (unreachable, deadline, a non-OK status, a
/// result field that cannot be read).
package protocol GRPCProxyBackend: Sendable {
    func connect(_ request: ConnectProxyRequest, _ call: GRPCProxyCall) async throws -> ProxyAnswer<ConnectProxyResult>
    func refresh(_ connection: ProxyConnection, _ call: GRPCProxyCall) async throws -> ProxyAnswer<RefreshProxyResult>
    func subscribe(_ connection: ProxyConnection, channel: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<SubscribeProxyResult>
    func publish(_ connection: ProxyConnection, channel: String, data: [UInt8], _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<PublishProxyResult>
    func subRefresh(_ connection: ProxyConnection, channel: String, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<SubRefreshProxyResult>
    /// The answer's data for the client (nil: none).
    func rpc(_ connection: ProxyConnection, method: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<[UInt8]?>
}

/// What one gRPC call carries besides its message: the metadata, the deadline, and the two
/// proxy options that shape the request.
package struct GRPCProxyCall: Sendable {
    /// Lower-case keys, in the order they were layered (a key appears once).
    package var metadata: [StrataConfig.HeaderField]
    package var timeoutMillis: Int64
    /// `binary_encoding`: payloads as `b64data` with `encoding: "binary"`.
    package var binaryEncoding: Bool
    /// `include_connection_meta`: the connection's meta in every request but connect's.
    package var includeMeta: Bool

    package init(metadata: [StrataConfig.HeaderField], timeoutMillis: Int64, binaryEncoding: Bool, includeMeta: Bool) {
        self.metadata = metadata
        self.timeoutMillis = timeoutMillis
        self.binaryEncoding = binaryEncoding
        self.includeMeta = includeMeta
    }

    /// `encoding` of every request.
    package var encoding: String { binaryEncoding ? "binary" : "json" }
}

/// How one configured proxy reaches its backend.
package enum ProxyWire: Sendable {
    /// A JSON POST to the endpoint URL (Centrifugo's HTTP proxy).
    case http(any ProxyTransport)
    /// `proxy.proto` over gRPC to the endpoint's host and port.
    case grpc(any GRPCProxyBackend)

    package var protocolName: String {
        switch self {
        case .http: "http"
        case .grpc: "grpc"
        }
    }
}
