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

    init(config: StrataConfig, transport: (any ProxyTransport)?) throws {
        var endpoints: [ProxyEndpoint] = []
        func endpoint(_ proxy: StrataConfig.Proxy, _ event: ProxyEvent) throws -> ProxyEndpoint {
            guard let transport else { throw NodeSetupError(description: "\(event.rawValue) proxy: no HTTP client to call the backend with") }
            let made = ProxyEndpoint(config: proxy, event: event, transport: transport)
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
    }
}
