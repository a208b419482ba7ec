import Foundation
import StrataProxy

/// `proxy.proto`'s messages from and to the proxy types of StrataProxy: the same fields as the
/// HTTP proxy's JSON (docs/proxy.md), with payloads as bytes.
enum GRPCProxyMessages {
    /// A request's payload: the bytes as they are, or with `binary_encoding` as base64.
    private static func payload(_ data: [UInt8]?, _ call: GRPCProxyCall) -> (data: Data, b64: String) {
        guard let data, !data.isEmpty else { return (Data(), "") }
        return call.binaryEncoding ? (Data(), Data(data).base64EncodedString()) : (Data(data), "")
    }

    /// The connection's meta, when the proxy includes it.
    private static func meta(_ c: ProxyConnection, _ call: GRPCProxyCall) -> Data {
        guard call.includeMeta, let meta = c.meta else { return Data() }
        return Data(meta)
    }

    static func connect(_ r: ConnectProxyRequest, _ call: GRPCProxyCall) -> Centrifugal_Centrifugo_Proxy_ConnectRequest {
        var m = Centrifugal_Centrifugo_Proxy_ConnectRequest()
        m.client = r.connection.client
        m.transport = r.connection.transport
        m.protocol = r.connection.protocolName
        m.encoding = call.encoding
        (m.data, m.b64Data) = payload(r.data, call)
        m.name = r.name
        m.version = r.version
        m.channels = r.channels
        return m
    }

    /// A request with the fields every one but connect's starts with: the connection (proto
    /// fields 1–3), `encoding` (4) and `user` (10).
    private static func request<M: ConnectionRequest>(_ c: ProxyConnection, _ call: GRPCProxyCall) -> M {
        var m = M()
        m.client = c.client
        m.transport = c.transport
        m.protocol = c.protocolName
        m.encoding = call.encoding
        m.user = c.user
        return m
    }

    static func refresh(_ c: ProxyConnection, _ call: GRPCProxyCall) -> Centrifugal_Centrifugo_Proxy_RefreshRequest {
        var m: Centrifugal_Centrifugo_Proxy_RefreshRequest = request(c, call)
        m.meta = meta(c, call)
        return m
    }

    static func subscribe(_ c: ProxyConnection, channel: String, data: [UInt8]?, _ call: GRPCProxyCall)
        -> Centrifugal_Centrifugo_Proxy_SubscribeRequest
    {
        var m: Centrifugal_Centrifugo_Proxy_SubscribeRequest = request(c, call)
        m.channel = channel
        m.meta = meta(c, call)
        (m.data, m.b64Data) = payload(data, call)
        return m
    }

    static func publish(_ c: ProxyConnection, channel: String, data: [UInt8], _ call: GRPCProxyCall)
        -> Centrifugal_Centrifugo_Proxy_PublishRequest
    {
        var m: Centrifugal_Centrifugo_Proxy_PublishRequest = request(c, call)
        m.channel = channel
        (m.data, m.b64Data) = payload(data, call)
        m.meta = meta(c, call)
        return m
    }

    static func subRefresh(_ c: ProxyConnection, channel: String, _ call: GRPCProxyCall) -> Centrifugal_Centrifugo_Proxy_SubRefreshRequest {
        var m: Centrifugal_Centrifugo_Proxy_SubRefreshRequest = request(c, call)
        m.channel = channel
        m.meta = meta(c, call)
        return m
    }

    static func rpc(_ c: ProxyConnection, method: String, data: [UInt8]?, _ call: GRPCProxyCall) -> Centrifugal_Centrifugo_Proxy_RPCRequest {
        var m: Centrifugal_Centrifugo_Proxy_RPCRequest = request(c, call)
        m.method = method
        (m.data, m.b64Data) = payload(data, call)
        m.meta = meta(c, call)
        return m
    }

    // MARK: answers

    /// A result's payload: `b64<name>` when non-empty (it must be base64), else the bytes (nil
    /// when empty) — Centrifugo's precedence for every result but publish's.
    static func payload(_ bytes: Data, b64: String, name: String) throws -> [UInt8]? {
        if !b64.isEmpty {
            guard let decoded = Data(base64Encoded: b64) else { throw ProxyDecodeError("b64\(name) is not base64") }
            return Array(decoded)
        }
        return bytes.isEmpty ? nil : Array(bytes)
    }

    private static func nonEmpty(_ bytes: Data) -> [UInt8]? { bytes.isEmpty ? nil : Array(bytes) }

    /// The response's `disconnect`, else its `error`, else its `result` (nil when absent).
    static func answer<R>(
        disconnect: Centrifugal_Centrifugo_Proxy_Disconnect?, error: Centrifugal_Centrifugo_Proxy_Error?, result: () throws -> R?
    ) rethrows -> ProxyAnswer<R> {
        if let disconnect { return .disconnect(code: disconnect.code, reason: disconnect.reason) }
        if let error { return .error(code: error.code, message: error.message, temporary: error.temporary) }
        return .result(try result())
    }

    static func options(
        info: Data, b64Info: String, data: Data, b64Data: String, override: Centrifugal_Centrifugo_Proxy_SubscribeOptionOverride?
    ) throws -> ProxySubscribeOptions {
        var o = ProxySubscribeOptions()
        o.info = try payload(info, b64: b64Info, name: "info")
        o.data = try payload(data, b64: b64Data, name: "data")
        if let override {
            o.presence = override.hasPresence ? override.presence.value : nil
            o.joinLeave = override.hasJoinLeave ? override.joinLeave.value : nil
            o.forcePushJoinLeave = override.hasForcePushJoinLeave ? override.forcePushJoinLeave.value : nil
            o.forceRecovery = override.hasForceRecovery ? override.forceRecovery.value : nil
            o.forcePositioning = override.hasForcePositioning ? override.forcePositioning.value : nil
        }
        return o
    }

    static func connect(_ r: Centrifugal_Centrifugo_Proxy_ConnectResult) throws -> ConnectProxyResult {
        var out = ConnectProxyResult()
        out.user = r.user
        out.expireAt = r.expireAt
        out.info = try payload(r.info, b64: r.b64Info, name: "info")
        out.data = try payload(r.data, b64: r.b64Data, name: "data")
        out.channels = r.channels
        out.meta = nonEmpty(r.meta)
        for (channel, s) in r.subs {
            out.subs[channel] = try options(
                info: s.info, b64Info: s.b64Info, data: s.data, b64Data: s.b64Data, override: s.hasOverride ? s.override : nil)
        }
        return out
    }

    static func refresh(_ r: Centrifugal_Centrifugo_Proxy_RefreshResult) -> RefreshProxyResult {
        var out = RefreshProxyResult()
        out.expired = r.expired
        out.expireAt = r.expireAt
        out.meta = nonEmpty(r.meta)
        do {
            out.info = try payload(r.info, b64: r.b64Info, name: "info")
        } catch {
            out.invalidInfo = true
        }
        return out
    }

    static func subscribe(_ r: Centrifugal_Centrifugo_Proxy_SubscribeResult) throws -> SubscribeProxyResult {
        var out = SubscribeProxyResult()
        out.expireAt = r.expireAt
        out.options = try options(info: r.info, b64Info: r.b64Info, data: r.data, b64Data: r.b64Data, override: r.hasOverride ? r.override : nil)
        return out
    }

    /// Unlike the other results, `data` wins over `b64data` (as in Centrifugo).
    static func publish(_ r: Centrifugal_Centrifugo_Proxy_PublishResult) throws -> PublishProxyResult {
        var out = PublishProxyResult()
        out.data = r.data.isEmpty ? try payload(Data(), b64: r.b64Data, name: "data") : Array(r.data)
        out.skipHistory = r.skipHistory
        out.tags = r.tags
        out.idempotencyKey = r.idempotencyKey
        out.delta = r.delta
        out.version = r.version
        out.versionEpoch = r.versionEpoch
        return out
    }

    static func subRefresh(_ r: Centrifugal_Centrifugo_Proxy_SubRefreshResult) -> SubRefreshProxyResult {
        var out = SubRefreshProxyResult()
        out.expired = r.expired
        out.expireAt = r.expireAt
        do {
            out.info = try payload(r.info, b64: r.b64Info, name: "info")
        } catch {
            out.expired = true
        }
        return out
    }
}

/// The request messages that start with the connection and its user.
protocol ConnectionRequest {
    init()
    var client: String { get set }
    var transport: String { get set }
    var `protocol`: String { get set }
    var encoding: String { get set }
    var user: String { get set }
}

extension Centrifugal_Centrifugo_Proxy_RefreshRequest: ConnectionRequest {}
extension Centrifugal_Centrifugo_Proxy_SubscribeRequest: ConnectionRequest {}
extension Centrifugal_Centrifugo_Proxy_PublishRequest: ConnectionRequest {}
extension Centrifugal_Centrifugo_Proxy_SubRefreshRequest: ConnectionRequest {}
extension Centrifugal_Centrifugo_Proxy_RPCRequest: ConnectionRequest {}
