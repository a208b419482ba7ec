/// The proxy sections (docs/proxy.md): Centrifugo v6's layout — `client.proxy.connect` and
/// `.refresh` with `enabled`, `channel.proxy.<event>` and `rpc.proxy` used by the namespaces that
/// enable them under the name `default`, and named proxies in the top-level `proxies[]`.
extension ConfigLoader {
    /// A proxy object at a root path, read whether enabled or not so its keys are known; nil
    /// unless enabled.
    /// `meta`: whether `include_connection_meta` means anything there (not for connect).
    static func readProxy(_ r: ConfigReader, _ path: String, enabled: Bool, meta: Bool = true) -> StrataConfig.Proxy? {
        let scope = ConfigReader.Scope(pathPrefix: path + ".", envPrefix: ConfigReader.envKey(path) + "_", base: r.subtree(path))
        let proxy = readProxy(r, scope: scope, meta: meta)
        return enabled && checkProxy(r, proxy, scope: scope) ? proxy : nil
    }

    /// A proxy object's keys, relative to `scope`.
    static func readProxy(_ r: ConfigReader, scope: ConfigReader.Scope, meta: Bool = true) -> StrataConfig.Proxy {
        var p = StrataConfig.Proxy()
        let path = scope.pathPrefix
        p.endpoint = r.string("endpoint", "", scope: scope)
        p.timeoutMillis = r.duration("timeout", 1000, scope: scope)
        if p.timeoutMillis <= 0 { p.timeoutMillis = 1000 }  // a zero takes the default, as in Centrifugo
        p.httpHeaders = r.strings("http_headers", [], scope: scope).map { $0.lowercased() }
        p.emulatedHeaders = r.strings("emulated_headers", [], scope: scope).map { $0.lowercased() }
        p.binaryEncoding = r.bool("binary_encoding", false, scope: scope)
        if meta {
            p.includeConnectionMeta = r.bool("include_connection_meta", false, scope: scope)
        } else {
            _ = r.raw("include_connection_meta", scope: scope)
        }
        p.staticHeaders = readStringMap(r, "http.static_headers", scope: scope)
        p.grpcMetadata = r.strings("grpc_metadata", [], scope: scope)
        p.grpc.compression = r.bool("grpc.compression", false, scope: scope)
        p.grpc.credentialsKey = r.string("grpc.credentials_key", "", scope: scope)
        p.grpc.credentialsValue = r.string("grpc.credentials_value", "", scope: scope)
        p.grpc.staticMetadata = readStringMap(r, "grpc.static_metadata", scope: scope).map { .init(name: $0.name.lowercased(), value: $0.value) }
        for (i, item) in r.objects("http.status_to_code_transforms", scope: scope).enumerated() {
            let itemPath = "\(path)http.status_to_code_transforms[\(i)]"
            let itemScope = ConfigReader.Scope(pathPrefix: itemPath + ".", envPrefix: "\(ConfigReader.envKey(itemPath))_", base: item)
            let status = r.int("status_code", 0, scope: itemScope)
            let errorCode = r.int("to_error.code", 0, scope: itemScope)
            let message = r.string("to_error.message", "", scope: itemScope)
            let temporary = r.bool("to_error.temporary", false, scope: itemScope)
            let disconnectCode = r.int("to_disconnect.code", 0, scope: itemScope)
            let reason = r.string("to_disconnect.reason", "", scope: itemScope)
            if status == 0 { r.fail(itemPath + ".status_code", "required") }
            if (errorCode > 0) == (disconnectCode > 0) {
                r.fail(itemPath, "give exactly one of to_error.code and to_disconnect.code")
            } else if !(message + reason).allSatisfy(\.isASCII) || max(message.utf8.count, reason.utf8.count) > 123 {
                r.fail(itemPath, "the message or reason must be ASCII, at most 123 bytes")
            } else if errorCode > 0 {
                p.statusTransforms.append(
                    .init(statusCode: status, outcome: .error(code: UInt32(clamping: errorCode), message: message, temporary: temporary)))
            } else {
                p.statusTransforms.append(.init(statusCode: status, outcome: .disconnect(code: UInt32(clamping: disconnectCode), reason: reason)))
            }
        }
        return p
    }

    /// A map of names to string values (`http.static_headers`, `grpc.static_metadata`), sorted
    /// by name; from the environment, a JSON object in one string.
    private static func readStringMap(_ r: ConfigReader, _ key: String, scope: ConfigReader.Scope) -> [StrataConfig.HeaderField] {
        guard let (value, fromEnv) = r.raw(key, scope: scope) else { return [] }
        var object = value
        if fromEnv, case .string(let text) = value { object = (try? ConfigFormats.parse(text, format: .json)) ?? .null }
        var out: [StrataConfig.HeaderField] = []
        switch object {
        case .object(let fields):
            for (name, v) in fields.sorted(by: { $0.key < $1.key }) {
                guard case .string(let s) = v else {
                    r.fail("\(scope.pathPrefix)\(key).\(name)", "expected a string")
                    continue
                }
                out.append(.init(name: name, value: s))
            }
        case .null: break
        default: r.fail(scope.pathPrefix + key, "expected an object of names to string values")
        }
        return out
    }

    /// A proxy that will be called needs an endpoint: an http(s) URL, or a gRPC `host:port`.
    private static func checkProxy(_ r: ConfigReader, _ p: StrataConfig.Proxy, scope: ConfigReader.Scope) -> Bool {
        if p.endpoint.isEmpty {
            r.fail(scope.pathPrefix + "endpoint", "endpoint not set")
            return false
        }
        if p.isGRPC && p.grpcTarget == nil {
            r.fail(scope.pathPrefix + "endpoint", "a gRPC endpoint is grpc://host:port or host:port (an HTTP one starts with http:// or https://)")
            return false
        }
        return true
    }

    /// `proxies[]`: every entry is checked, used or not, as Centrifugo does. Names match
    /// `^[-a-zA-Z0-9_.]{2,}$`, are unique and are not `default`.
    static func readNamedProxies(_ r: ConfigReader) -> [String: StrataConfig.Proxy] {
        var named: [String: StrataConfig.Proxy] = [:]
        for (path, name, item) in r.namedObjects("proxies") {
            let scope = ConfigReader.Scope(pathPrefix: path + ".", envPrefix: "PROXIES_\(ConfigReader.envKey(name))_", base: item)
            var proxy = readProxy(r, scope: scope)
            proxy.name = name
            if !ConfigReader.isName(name) {
                r.fail(path + ".name", "proxy name \"\(name)\" must match ^[-a-zA-Z0-9_.]{2,}$")
            } else if name == "default" {
                r.fail(path + ".name", "proxy name default is reserved")
            } else if named[name] != nil {
                r.fail(path + ".name", "duplicate proxy name \"\(name)\"")
            } else if checkProxy(r, proxy, scope: scope) {
                named[name] = proxy
            }
        }
        return named
    }

    /// RPC namespaces: each method's namespace (the text before `rpc.namespace_boundary`) and
    /// the proxy its methods go to (docs/proxy.md).
    static func readRPCNamespaces(_ r: ConfigReader, _ rpc: inout StrataConfig.RPC) {
        rpc.namespaceBoundary = r.string("rpc.namespace_boundary", rpc.namespaceBoundary)
        if rpc.namespaceBoundary.isEmpty { rpc.namespaceBoundary = ":" }
        func proxyName(_ scope: ConfigReader.Scope) -> String? {
            let name = r.string("proxy_name", "default", scope: scope)
            guard r.bool("proxy_enabled", false, scope: scope) else { return nil }
            return name.isEmpty ? "default" : name
        }
        rpc.withoutNamespaceProxy = proxyName(
            .init(pathPrefix: "rpc.without_namespace.", envPrefix: "RPC_WITHOUT_NAMESPACE_", base: r.subtree("rpc.without_namespace")))
        for (i, item) in r.objects("rpc.namespaces").enumerated() {
            let path = "rpc.namespaces[\(i)]"
            let scope = ConfigReader.Scope(pathPrefix: path + ".", envPrefix: "\(ConfigReader.envKey(path))_", base: item)
            let name = r.string("name", "", scope: scope)
            if name.isEmpty || name.utf8.count > 128 || !name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0)) }) {
                r.fail(path + ".name", "expected a name of letters, digits, -, _ or .")
            }
            if rpc.namespaces[name] != nil { r.fail(path + ".name", "RPC namespace \"\(name)\" is listed twice") }
            rpc.namespaces[name] = StrataConfig.RPCNamespace(proxy: proxyName(scope))
        }
    }

    /// Every proxy a namespace enables, by event and name, each checked once; a name that
    /// finds no proxy fails at the namespace key that gave it.
    static func resolveProxies(_ r: ConfigReader, _ channel: StrataConfig.Channel, _ rpc: StrataConfig.RPC) -> ProxySet {
        let named = readNamedProxies(r)
        var set = ProxySet()
        var defaults: [ProxyEvent: StrataConfig.Proxy?] = [:]
        func use(_ event: ProxyEvent, _ name: String?, defaultPath: String, at keyPath: String, notFound: String) {
            guard let name else { return }
            let key = ProxySet.Key(event, name)
            guard set.byKey[key] == nil else { return }
            if name == "default" {
                if defaults[event] == nil { defaults[event] = readProxy(r, defaultPath, enabled: true) }
                if let proxy = defaults[event] ?? nil { set.byKey[key] = proxy }
            } else if let proxy = named[name] {
                set.byKey[key] = proxy
            } else {
                r.fail(keyPath, notFound)
            }
        }
        let namespaces = [("channel.without_namespace", channel.withoutNamespace)]
            + channel.namespaces.enumerated().map { ("channel.namespaces[\($0.offset)]", $0.element) }
        for (path, ns) in namespaces {
            for (event, name, key) in [
                (ProxyEvent.subscribe, ns.subscribeProxy, "subscribe"), (.publish, ns.publishProxy, "publish"),
                (.subRefresh, ns.subRefreshProxy, "sub_refresh"),
            ] {
                use(event, name, defaultPath: "channel.proxy.\(key)", at: "\(path).\(key)_proxy_name",
                    notFound: "\(key) proxy with name \"\(name ?? "")\" not found")
            }
        }
        use(.rpc, rpc.withoutNamespaceProxy, defaultPath: "rpc.proxy", at: "rpc.without_namespace.proxy_name",
            notFound: "proxy \(rpc.withoutNamespaceProxy ?? "") not found for rpc")
        for (name, ns) in rpc.namespaces.sorted(by: { $0.key < $1.key }) {
            use(.rpc, ns.proxy, defaultPath: "rpc.proxy", at: "rpc.namespaces[\(name)].proxy_name", notFound: "proxy \(ns.proxy ?? "") not found for rpc")
        }
        // The unused default objects are read too, so their keys are known.
        for (event, key) in [(ProxyEvent.subscribe, "channel.proxy.subscribe"), (.publish, "channel.proxy.publish"),
                             (.subRefresh, "channel.proxy.sub_refresh"), (.rpc, "rpc.proxy")] where defaults[event] == nil {
            _ = readProxy(r, key, enabled: false)
        }
        return set
    }
}
