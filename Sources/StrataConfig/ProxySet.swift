/// What a proxy is asked about: Centrifugo's proxy types (the `type` label of its proxy metrics).
package enum ProxyEvent: String, Sendable, CaseIterable {
    case connect, refresh, subscribe, publish, subRefresh = "sub_refresh", rpc
}

/// The proxies that channel namespaces (`subscribe_proxy_name`, …) and RPC namespaces
/// (`proxy_name`) use, one per event and name: `default` is the object under `channel.proxy.<event>`
/// (or `rpc.proxy`), any other name a `proxies[]` entry. Only proxies some namespace enables are
/// here, each checked at start, so a namespace's name always finds its proxy.
package struct ProxySet: Sendable {
    package struct Key: Hashable, Sendable {
        package var event: ProxyEvent
        package var name: String

        package init(_ event: ProxyEvent, _ name: String) {
            self.event = event
            self.name = name
        }
    }

    package var byKey: [Key: StrataConfig.Proxy] = [:]

    package init() {}

    package subscript(event event: ProxyEvent, name name: String) -> StrataConfig.Proxy? {
        byKey[Key(event, name)]
    }
}
