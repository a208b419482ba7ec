import Foundation
import Testing

@testable import StrataConfig

/// No setting silently ignored: the loader and `ConfigKeys` name the same keys, every key that
/// Strata does not do stops the start when turned on, and the generated doc is up to date.
@Suite struct ConfigKeysTests {
    /// A config with one of every list (namespace, transforms, consumer, RPC namespace), so the
    /// loader reads every key it can.
    static let full: ConfigValue = .object([
        "channel": .object(["namespaces": .array([.object(["name": .string("chat")])])]),
        "client": .object([
            "connect_code_to_unidirectional_disconnect": .object([
                "enabled": .bool(true),
                "transforms": .array([.object(["code": .int(1), "to": .object(["code": .int(4000), "reason": .string("r")])])]),
            ])
        ]),
        "uni_sse": .object(["connect_code_to_http_response": .object([
            "enabled": .bool(true),
            "transforms": .array([.object(["code": .int(1), "to": .object(["status_code": .int(400), "body": .string("b")])])]),
        ])]),
        "uni_http_stream": .object(["connect_code_to_http_response": .object(["enabled": .bool(true)])]),
        "consumers": .array([.object([
            "name": .string("outbox"), "enabled": .bool(false), "type": .string("postgresql"),
            "postgresql": .object(["dsn": .string("postgres://u@h/db"), "outbox_table_name": .string("t")]),
        ])]),
        "rpc": .object(["namespaces": .array([.object(["name": .string("r"), "proxy_enabled": .bool(false)])])]),
        "proxies": .array([.object(["name": .string("named"), "endpoint": .string("http://backend/p")])]),
    ])

    /// A key as the catalogue writes it: list indexes as `[]`, namespace options under
    /// `channel.namespaces[].`, every Redis section as `engine.redis.`.
    static func normalized(_ path: String) -> String {
        var p = path.replacingOccurrences(of: #"\[\d+\]"#, with: "[]", options: .regularExpression)
        for (from, to) in [
            ("channel.without_namespace.", ConfigKeys.namespacePrefix), ("broker.redis.", ConfigKeys.redisPrefix),
            ("presence_manager.redis.", ConfigKeys.redisPrefix),
        ] where p.hasPrefix(from) {
            p = to + p.dropFirst(from.count)
        }
        return p
    }

    static func covers(_ entry: String, _ key: String) -> Bool {
        key == entry || key.hasPrefix(entry + ".") || key.hasPrefix(entry + "[]")
    }

    @Test func theLoaderReadsExactlyTheKeysTheCatalogueNames() {
        // Each key as read (with `[]`) and as the catalogue names it: listed when either is.
        let forms = ConfigLoader.keysRead(Self.full).map {
            [Self.normalized($0), $0.replacingOccurrences(of: #"\[\d+\]"#, with: "[]", options: .regularExpression)]
        }
        let read = Set(forms.joined())
        let catalogue = ConfigKeys.all.map(\.path)
        let unlisted = forms.filter { keys in !keys.contains { key in catalogue.contains { Self.covers($0, key) } } }.map { $0[1] }
        #expect(unlisted.isEmpty, "read by the loader but not in ConfigKeys: \(unlisted.sorted())")
        let neverRead = catalogue.filter { entry in !read.contains { Self.covers(entry, $0) } }
        #expect(neverRead.isEmpty, "in ConfigKeys but never read: \(neverRead)")
        #expect(Set(catalogue).count == catalogue.count, "a key listed twice")
    }

    /// `value` at `path` (`a.b[].c` puts one object in the list `a.b`; namespaces get a name).
    static func document(_ path: String, _ value: ConfigValue) -> ConfigValue {
        func build(_ parts: ArraySlice<Substring>) -> ConfigValue {
            guard let first = parts.first else { return value }
            let rest = build(parts.dropFirst())
            if first.hasSuffix("[]") {
                var item: [String: ConfigValue] = ["name": .string("ns")]
                // A named proxy needs an endpoint to load at all.
                if first == "proxies[]" { item["endpoint"] = .string("http://backend/p") }
                // A consumer needs a known type.
                if first == "consumers[]" { item["type"] = .string("postgresql") }
                if case .object(let o) = rest { item.merge(o) { _, new in new } }
                return .object([String(first.dropLast(2)): .array([.object(item)])])
            }
            return .object([String(first): rest])
        }
        return build(path.split(separator: ".")[...])
    }

    /// `document(path, value)` with every section around the key that has an `enabled` switch
    /// switched on: a key inside a section that is off is never read, as in Centrifugo.
    static func documentWithSectionsOn(_ path: String, _ value: ConfigValue) -> ConfigValue {
        var root = document(path, value)
        var parts = path.split(separator: ".").dropLast()
        if path.hasSuffix(".enabled") { parts = parts.dropLast() }
        while !parts.isEmpty {
            let section = parts.joined(separator: ".")
            // (List items are checked each on its own: their switches are not consulted.)
            if !section.contains("[]"), ConfigKeys.isKnown(section + ".enabled") {
                root = merged(root, document(section + ".enabled", .bool(true)))
            }
            parts = parts.dropLast()
        }
        return root
    }

    static func merged(_ a: ConfigValue, _ b: ConfigValue) -> ConfigValue {
        guard case .object(var x) = a, case .object(let y) = b else { return b }
        for (k, v) in y { x[k] = x[k].map { merged($0, v) } ?? v }
        return .object(x)
    }

    static func errors(_ root: ConfigValue) -> [ConfigError] {
        do {
            _ = try ConfigLoader.decode(root)
            return []
        } catch {
            return error.errors
        }
    }

    /// Each refused key, turned on (in a section switched on), fails the load with its path and
    /// the catalogue's reason (for Redis keys in all three sections, and namespace options in
    /// both places); off, it loads.
    @Test(arguments: ConfigKeys.all.filter { if case .refusedWhenOn = $0.status { true } else { false } })
    func refusedKeysStopTheStartWhenOn(_ key: ConfigKey) {
        guard case .refusedWhenOn(let why) = key.status else { return }
        var paths = [key.path]
        if key.path.hasPrefix(ConfigKeys.redisPrefix) {
            let rest = key.path.dropFirst(ConfigKeys.redisPrefix.count)
            paths = ConfigKeys.redisSections.map { $0 + rest }
        }
        if key.path.hasPrefix(ConfigKeys.namespacePrefix) {
            paths.append("channel.without_namespace." + key.path.dropFirst(ConfigKeys.namespacePrefix.count))
        }
        for path in paths {
            // A value of the key's kind: lists of addresses, numbers, strings, else true.
            let on: ConfigValue =
                path.hasSuffix("_address") ? .array([.string("x:1")])
                : path.hasSuffix(".db") ? .int(2)
                : key.path.hasSuffix("enabled") || key.path.hasSuffix("_external") || key.path.contains("prometheus.") ? .bool(true)
                : .string("x")
            let errors = Self.errors(Self.documentWithSectionsOn(path, on))
            let expected = path.replacingOccurrences(of: "[]", with: "[0]")
            #expect(errors.contains { $0.path == expected && $0.message == why }, "\(path): \(errors)")
            let off = Self.errors(Self.document(path, on == .bool(true) ? .bool(false) : .null))
            #expect(!off.contains { $0.path == expected }, "\(path) off: \(off)")
        }
    }

    @Test func theEnvironmentCanTurnARefusedKeyOnToo() {
        let errors = Self.errors(.object([:]))
        #expect(errors.isEmpty)
        do {
            _ = try ConfigLoader.decode(.object([:]), environment: ["CENTRIFUGO_HTTP_SERVER_TLS_EXTERNAL": "true"])
            Issue.record("tls_external from the environment was accepted")
        } catch {
            #expect(error.errors.map(\.path) == ["http_server.tls_external"])
        }
    }

    /// Ignored keys load whatever their value, and are not reported as unknown.
    @Test func ignoredKeysLoadAndAreNotUnknown() throws {
        for key in ConfigKeys.all {
            guard case .inert = key.status else { continue }
            let isList = ConfigKeys.all.contains { $0.path.hasPrefix(key.path + "[]") }
            let value: ConfigValue = isList ? .array([.object(["anything": .int(1)])]) : .string("anything")
            let config = try ConfigLoader.decode(Self.document(key.path, value))
            #expect(config.unknownKeys.isEmpty, "\(key.path): \(config.unknownKeys)")
        }
    }

    @Test func theGeneratedDocIsUpToDate() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/configuration-keys.md").standardized
        let text = try String(contentsOf: doc, encoding: .utf8)
        #expect(text == ConfigKeys.markdown(), "docs/configuration-keys.md is stale: run `strata configdoc > docs/configuration-keys.md`")
    }
}
