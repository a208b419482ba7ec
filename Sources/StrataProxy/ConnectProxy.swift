import StrataConfig
import StrataProtocol

/// What a connect request tells the backend (`ConnectRequest` of Centrifugo's proxy.proto).
package struct ConnectProxyRequest: Sendable {
    /// Who connects and how, and the headers to forward (no user yet, no meta: a connect
    /// request has neither).
    package var connection = ProxyConnection()
    /// The connect command's `data` (any bytes; JSON unless the proxy sends base64).
    package var data: [UInt8]?
    package var name = ""
    package var version = ""
    /// The channels of the connect command's `subs`.
    package var channels: [String] = []

    package init() {}
}

/// Options of one subscription the backend decides: a server-side one at connect (`subs`), or
/// a client's subscribe (`SubscribeResult`).
package struct ProxySubscribeOptions: Sendable, Equatable {
    package var info: [UInt8]?
    package var data: [UInt8]?
    package var presence: Bool?
    package var joinLeave: Bool?
    package var forcePushJoinLeave: Bool?
    package var forceRecovery: Bool?
    package var forcePositioning: Bool?

    package init() {}

    /// `info`/`b64info`, `data`/`b64data` and the five `override` flags (`{"value": bool}`).
    static func decode(_ o: JSONValue) throws -> ProxySubscribeOptions {
        var options = ProxySubscribeOptions()
        options.info = try o.payload("info")
        options.data = try o.payload("data")
        if let override = try o.object("override") {
            func flag(_ name: String) throws -> Bool? {
                guard let wrapper = try override.object(name) else { return nil }
                return try wrapper.bool("value")
            }
            options.presence = try flag("presence")
            options.joinLeave = try flag("join_leave")
            options.forcePushJoinLeave = try flag("force_push_join_leave")
            options.forceRecovery = try flag("force_recovery")
            options.forcePositioning = try flag("force_positioning")
        }
        return options
    }
}

/// What the backend decided (`ConnectResult`).
package struct ConnectProxyResult: Sendable, Equatable {
    package var user = ""
    /// Unix seconds; 0: never expires.
    package var expireAt: Int64 = 0
    package var info: [UInt8]?
    /// Returned to the client in its connect result.
    package var data: [UInt8]?
    package var channels: [String] = []
    package var subs: [String: ProxySubscribeOptions] = [:]
    /// Kept on the connection, never sent to the client.
    package var meta: [UInt8]?

    package init() {}
}

/// `client.proxy.connect`: a connect without a token is decided by the backend.
package struct ConnectProxy: Sendable {
    package let endpoint: ProxyEndpoint

    package init(endpoint: ProxyEndpoint) {
        self.endpoint = endpoint
    }

    package func connect(_ request: ConnectProxyRequest) async -> ProxyOutcome<ConnectProxyResult> {
        switch endpoint.wire {
        case .grpc(let backend):
            return await endpoint.call(headers: request.connection.headers) { try await backend.connect(request, $0) }
        case .http(let transport):
            guard let body = Self.encode(request, binary: endpoint.config.binaryEncoding) else {
                return .failed("the connect data is not JSON (turn on binary_encoding for binary data)")
            }
            return await endpoint.call(transport, body: body, headers: request.connection.headers, decode: Self.decode)
        }
    }

    /// The request's JSON, keys in proto order, empty ones left out; nil when `data` must be
    /// JSON and is not.
    static func encode(_ r: ConnectProxyRequest, binary: Bool) -> [UInt8]? {
        var w = JSONWriter()
        w.beginObject()
        let c = r.connection
        ProxyJSON.common(&w, client: c.client, transport: c.transport, protocolName: c.protocolName, binary: binary)
        guard ProxyJSON.payload(&w, r.data, binary: binary) else { return nil }
        if !r.name.isEmpty {
            w.key("name")
            w.string(r.name)
        }
        if !r.version.isEmpty {
            w.key("version")
            w.string(r.version)
        }
        if !r.channels.isEmpty {
            w.key("channels")
            w.beginArray()
            for channel in r.channels {
                w.element()
                w.string(channel)
            }
            w.endArray()
        }
        w.endObject()
        return ProxyJSON.htmlSafe(w.bytes)
    }

    static func decode(_ result: JSONValue) throws -> ConnectProxyResult {
        var r = ConnectProxyResult()
        r.user = try result.string("user")
        r.expireAt = try result.strictInteger("expire_at")
        r.info = try result.payload("info")
        r.data = try result.payload("data")
        r.channels = try result.stringArray("channels")
        r.meta = try result.payload("meta")
        if let subs = try result.object("subs"), case .object(let members) = subs {
            for member in members {
                guard case .object = member.value else { throw ProxyDecodeError("subs.\(member.key) is not an object") }
                r.subs[member.key] = try ProxySubscribeOptions.decode(member.value)
            }
        }
        return r
    }
}
