import StrataConfig
import StrataProxy

/// The node's proxies to the application backend (docs/proxy.md), made once at start: one per
/// event and name, so every namespace naming a proxy shares its metrics. Namespaces name them
/// in `ChannelOptions` (`subscribeProxy`, …) and RPC namespaces in `rpc.namespaces`.
struct NodeProxies: Sendable {
    /// `client.proxy.connect`: a connect without a token asks the backend.
    let connect: ConnectProxy?
    /// `client.proxy.refresh`: expiring connections are refreshed by the backend.
    let refresh: RefreshProxy?
    let subscribe: [String: SubscribeProxy]
    let publish: [String: PublishProxy]
    let subRefresh: [String: SubRefreshProxy]
    let rpc: [String: RPCProxy]
    /// Headers of a connection's opening request that some proxy forwards (lower-cased); none
    /// are kept with a connection when this is empty.
    let forwardedHeaderNames: [String]
    /// Names in the connect command's `headers` that some proxy forwards (lower-cased).
    let emulatedHeaderNames: [String]
    /// Metadata keys of a uni_grpc connection's call that some proxy forwards (as written).
    let forwardedMetadataKeys: [String]

    /// `transport` calls the HTTP proxies; `grpc` gives each gRPC proxy its backend.
    init(
        config: StrataConfig, transport: (any ProxyTransport)?, grpc: (@Sendable (StrataConfig.Proxy) throws -> any GRPCProxyBackend)? = nil
    ) throws {
        var endpoints: [ProxyEndpoint] = []
        func endpoint(_ proxy: StrataConfig.Proxy, _ event: ProxyEvent) throws -> ProxyEndpoint {
            let wire: ProxyWire
            if proxy.isGRPC {
                guard let grpc else { throw NodeSetupError(description: "\(event.rawValue) proxy: no gRPC client to call the backend with") }
                wire = .grpc(try grpc(proxy))
            } else {
                guard let transport else { throw NodeSetupError(description: "\(event.rawValue) proxy: no HTTP client to call the backend with") }
                wire = .http(transport)
            }
            let made = ProxyEndpoint(config: proxy, event: event, wire: wire)
            endpoints.append(made)
            return made
        }
        func named<P>(_ event: ProxyEvent, _ make: (ProxyEndpoint) -> P) throws -> [String: P] {
            var out: [String: P] = [:]
            for (key, proxy) in config.proxies.byKey where key.event == event { out[key.name] = make(try endpoint(proxy, event)) }
            return out
        }
        connect = try config.client.connectProxy.map { ConnectProxy(endpoint: try endpoint($0, .connect)) }
        refresh = try config.client.refreshProxy.map { RefreshProxy(endpoint: try endpoint($0, .refresh)) }
        subscribe = try named(.subscribe, SubscribeProxy.init)
        publish = try named(.publish, PublishProxy.init)
        subRefresh = try named(.subRefresh, SubRefreshProxy.init)
        rpc = try named(.rpc, RPCProxy.init)
        func union(_ names: (ProxyEndpoint) -> [String]) -> [String] {
            var out: [String] = []
            for e in endpoints { for name in names(e) where !out.contains(name) { out.append(name) } }
            return out
        }
        forwardedHeaderNames = union(\.forwardedHeaderNames)
        emulatedHeaderNames = union(\.emulatedHeaderNames)
        forwardedMetadataKeys = union(\.forwardedMetadataKeys)
    }
}
