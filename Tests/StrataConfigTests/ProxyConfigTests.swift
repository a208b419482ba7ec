import Testing

@testable import StrataConfig

/// Centrifugo v6's proxy layout: namespaces enable an event and name its proxy, `default` being
/// the object under `channel.proxy.<event>` (or `rpc.proxy`), any other name a `proxies[]` entry.
@Suite struct ProxyConfigTests {
    static let layout = #"""
        {
          "client": {"proxy": {
            "connect": {"enabled": true, "endpoint": "http://b/connect"},
            "refresh": {"enabled": true, "endpoint": "http://b/refresh", "include_connection_meta": true}
          }},
          "channel": {
            "proxy": {
              "subscribe": {"endpoint": "http://b/subscribe", "emulated_headers": ["Authorization"]},
              "publish": {"endpoint": "http://b/publish", "timeout": "2s"},
              "sub_refresh": {"endpoint": "http://b/sub_refresh"}
            },
            "namespaces": [
              {"name": "chat", "subscribe_proxy_enabled": true, "publish_proxy_enabled": true, "sub_refresh_proxy_enabled": true},
              {"name": "billing", "subscribe_proxy_enabled": true, "subscribe_proxy_name": "billing_sub"},
              {"name": "plain", "subscribe_proxy_name": "not_enabled_so_not_checked"}
            ]
          },
          "rpc": {"proxy": {"endpoint": "http://b/rpc"}, "without_namespace": {"proxy_enabled": true},
                  "namespaces": [{"name": "pay", "proxy_enabled": true, "proxy_name": "billing_sub"}, {"name": "off"}]},
          "proxies": [{"name": "billing_sub", "endpoint": "https://billing/sub", "timeout": "500ms", "http_headers": ["X-Real-Ip"]}]
        }
        """#

    @Test func namespacesFindTheirProxiesByEventAndName() throws {
        let c = try decodeJSON(Self.layout)
        #expect(c.client.refreshProxy?.endpoint == "http://b/refresh" && c.client.refreshProxy?.includeConnectionMeta == true)
        let chat = c.channel.namespaces[0]
        #expect(chat.subscribeProxy == "default" && chat.publishProxy == "default" && chat.subRefreshProxy == "default")
        #expect(c.channel.namespaces[1].subscribeProxy == "billing_sub" && c.channel.namespaces[1].publishProxy == nil)
        #expect(c.channel.namespaces[2].subscribeProxy == nil)
        #expect(c.proxies[event: .subscribe, name: "default"]?.emulatedHeaders == ["authorization"])
        #expect(c.proxies[event: .publish, name: "default"]?.timeoutMillis == 2000)
        let billing = c.proxies[event: .subscribe, name: "billing_sub"]
        #expect(billing?.name == "billing_sub" && billing?.timeoutMillis == 500 && billing?.httpHeaders == ["x-real-ip"])
        #expect(c.proxies[event: .rpc, name: "billing_sub"]?.endpoint == "https://billing/sub")
        #expect(c.proxies[event: .rpc, name: "default"]?.name == "default")
        #expect(c.rpc.withoutNamespaceProxy == "default" && c.rpc.namespaces["pay"]?.proxy == "billing_sub")
        #expect(c.rpc.namespaces["off"] == StrataConfig.RPCNamespace(proxy: nil))
        // Only what a namespace uses is made.
        #expect(c.proxies.byKey.count == 6)
    }

    @Test(arguments: [
        (#"{"proxies":[{"name":"default","endpoint":"http://x"}]}"#, "proxies[0].name", "proxy name default is reserved"),
        (#"{"proxies":[{"name":"a b","endpoint":"http://x"}]}"#, "proxies[0].name", "must match"),
        (#"{"proxies":[{"name":"pp","endpoint":"http://x"},{"name":"pp","endpoint":"http://y"}]}"#, "proxies[1].name", "duplicate proxy name"),
        (#"{"proxies":[{"name":"pp"}]}"#, "proxies[0].endpoint", "endpoint not set"),
        (#"{"proxies":[{"name":"pp","endpoint":"grpc://nohostport"}]}"#, "proxies[0].endpoint", "grpc://host:port or host:port"),
        (#"{"proxies":[{"name":"pp","endpoint":"backend:http"}]}"#, "proxies[0].endpoint", "grpc://host:port or host:port"),
        (#"{"proxies":[{"name":"pp","endpoint":"grpc://b:1","grpc":{"tls":{"enabled":true}}}]}"#, "proxies[0].grpc.tls.enabled", "not implemented"),
        (#"{"channel":{"namespaces":[{"name":"ns","subscribe_proxy_enabled":true,"subscribe_proxy_name":"nope"}]}}"#,
         "channel.namespaces[0].subscribe_proxy_name", #"subscribe proxy with name "nope" not found"#),
        (#"{"channel":{"without_namespace":{"publish_proxy_enabled":true}}}"#, "channel.proxy.publish.endpoint", "endpoint not set"),
        (#"{"rpc":{"namespaces":[{"name":"r","proxy_enabled":true,"proxy_name":"gone"}]}}"#, "rpc.namespaces[r].proxy_name", "proxy gone not found for rpc"),
        (#"{"client":{"proxy":{"refresh":{"enabled":true}}}}"#, "client.proxy.refresh.endpoint", "endpoint not set"),
        (#"{"channel":{"namespaces":[{"name":"ns","subscribe_stream_proxy_enabled":true}]}}"#,
         "channel.namespaces[0].subscribe_stream_proxy_enabled", "not implemented"),
    ])
    func badLayoutsAreRefusedAtTheKeyThatIsWrong(_ json: String, _ path: String, _ message: String) {
        let errors = configErrors(json)
        #expect(errors.contains { $0.path == path && $0.message.contains(message) }, "\(errors)")
    }

    @Test func namedProxiesTakeTheirKeysFromTheEnvironmentByName() throws {
        let c = try decodeJSON(
            #"{"proxies":[{"name":"billing","endpoint":"http://x"}],"rpc":{"without_namespace":{"proxy_enabled":true,"proxy_name":"billing"}}}"#,
            env: ["CENTRIFUGO_PROXIES_BILLING_TIMEOUT": "3s"])
        #expect(c.proxies[event: .rpc, name: "billing"]?.timeoutMillis == 3000)
    }

    /// An endpoint that is not http(s) is a gRPC one; its `grpc` object and `grpc_metadata` are read.
    @Test func grpcProxiesAndTheirKeys() throws {
        let c = try decodeJSON(
            #"{"proxies":[{"name":"billing","endpoint":"grpc://billing:9000","grpc_metadata":["x-token"],"#
                + #""grpc":{"compression":true,"credentials_key":"k","credentials_value":"v","static_metadata":{"X-B":"2","x-a":"1"}}}],"#
                + #""client":{"proxy":{"connect":{"enabled":true,"endpoint":"127.0.0.1:10001"}}},"#
                + #""rpc":{"without_namespace":{"proxy_enabled":true,"proxy_name":"billing"}}}"#)
        let p = try #require(c.proxies[event: .rpc, name: "billing"])
        #expect(p.isGRPC && p.grpcTarget?.host == "billing" && p.grpcTarget?.port == 9000 && p.grpcMetadata == ["x-token"])
        #expect(p.grpc.compression && p.grpc.credentialsKey == "k" && p.grpc.credentialsValue == "v")
        #expect(p.grpc.staticMetadata == [.init(name: "x-b", value: "2"), .init(name: "x-a", value: "1")])
        #expect(c.client.connectProxy?.grpcTarget?.port == 10001 && c.unknownKeys.isEmpty)
    }
}
