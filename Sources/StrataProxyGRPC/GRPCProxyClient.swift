import GRPCCore
import GRPCNIOTransportHTTP2
import StrataConfig
import StrataProxy

/// A gRPC backend (`proxy.proto`'s `CentrifugoProxy`) over one HTTP/2 connection, made and run
/// by `GRPCProxyClients`. Each call has the proxy's deadline and fails at once while the
/// backend cannot be reached (no waiting for it to come up: the client gets its error, as with
/// Centrifugo's gRPC proxy).
struct GRPCProxyClient: GRPCProxyBackend {
    let stub: Centrifugal_Centrifugo_Proxy_CentrifugoProxy.Client<HTTP2ClientTransport.Posix>
    /// `grpc.compression`: gzip on requests.
    let compression: Bool

    private func request<M: Sendable>(_ message: M, _ call: GRPCProxyCall) -> (ClientRequest<M>, CallOptions) {
        var metadata = Metadata()
        for field in call.metadata { metadata.addString(field.value, forKey: field.name) }
        var options = CallOptions.defaults
        options.timeout = .milliseconds(call.timeoutMillis)
        options.waitForReady = false
        if compression { options.compression = .gzip }
        return (ClientRequest(message: message, metadata: metadata), options)
    }

    func connect(_ r: ConnectProxyRequest, _ call: GRPCProxyCall) async throws -> ProxyAnswer<ConnectProxyResult> {
        let (req, options) = request(GRPCProxyMessages.connect(r, call), call)
        let m = try await stub.connect(request: req, options: options)
        return try GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? try GRPCProxyMessages.connect(m.result) : nil
        }
    }

    func refresh(_ c: ProxyConnection, _ call: GRPCProxyCall) async throws -> ProxyAnswer<RefreshProxyResult> {
        let (req, options) = request(GRPCProxyMessages.refresh(c, call), call)
        let m = try await stub.refresh(request: req, options: options)
        return GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? GRPCProxyMessages.refresh(m.result) : nil
        }
    }

    func subscribe(_ c: ProxyConnection, channel: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<SubscribeProxyResult>
    {
        let (req, options) = request(GRPCProxyMessages.subscribe(c, channel: channel, data: data, call), call)
        let m = try await stub.subscribe(request: req, options: options)
        return try GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? try GRPCProxyMessages.subscribe(m.result) : nil
        }
    }

    func publish(_ c: ProxyConnection, channel: String, data: [UInt8], _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<PublishProxyResult>
    {
        let (req, options) = request(GRPCProxyMessages.publish(c, channel: channel, data: data, call), call)
        let m = try await stub.publish(request: req, options: options)
        return try GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? try GRPCProxyMessages.publish(m.result) : nil
        }
    }

    func subRefresh(_ c: ProxyConnection, channel: String, _ call: GRPCProxyCall) async throws -> ProxyAnswer<SubRefreshProxyResult> {
        let (req, options) = request(GRPCProxyMessages.subRefresh(c, channel: channel, call), call)
        let m = try await stub.subRefresh(request: req, options: options)
        return GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? GRPCProxyMessages.subRefresh(m.result) : nil
        }
    }

    func rpc(_ c: ProxyConnection, method: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws -> ProxyAnswer<[UInt8]?> {
        let (req, options) = request(GRPCProxyMessages.rpc(c, method: method, data: data, call), call)
        let m = try await stub.rpc(request: req, options: options)
        return try GRPCProxyMessages.answer(disconnect: m.hasDisconnect ? m.disconnect : nil, error: m.hasError ? m.error : nil) {
            m.hasResult ? .some(try GRPCProxyMessages.payload(m.result.data, b64: m.result.b64Data, name: "data")) : nil
        }
    }
}
