import Foundation
import StrataProxy
import Testing

@testable import StrataProxyGRPC

/// proxy.proto's messages from and to StrataProxy's types: the same fields as the HTTP proxy's
/// JSON, payloads as bytes (docs/proxy.md, "gRPC proxies").
@Suite struct GRPCProxyMessagesTests {
    func connection(meta: String? = #"{"tenant":"t1"}"#) -> ProxyConnection {
        var c = ProxyConnection()
        c.client = "c1"
        c.transport = "websocket"
        c.protocolName = "protobuf"
        c.user = "56"
        c.meta = meta.map { Array($0.utf8) }
        return c
    }

    func call(binary: Bool = false, meta: Bool = false) -> GRPCProxyCall {
        GRPCProxyCall(metadata: [], timeoutMillis: 1000, binaryEncoding: binary, includeMeta: meta)
    }

    @Test func requestsCarryTheConnectionAndRawBytes() {
        let bytes: [UInt8] = [0xff, 0x00]
        let rpc = GRPCProxyMessages.rpc(connection(), method: "m", data: bytes, call())
        #expect(rpc.client == "c1" && rpc.transport == "websocket" && rpc.protocol == "protobuf" && rpc.encoding == "json")
        #expect(rpc.user == "56" && rpc.method == "m" && rpc.data == Data(bytes) && rpc.b64Data.isEmpty && rpc.meta.isEmpty)

        let binary = GRPCProxyMessages.publish(connection(), channel: "chat", data: bytes, call(binary: true, meta: true))
        #expect(binary.encoding == "binary" && binary.data.isEmpty && binary.b64Data == "/wA=" && binary.channel == "chat")
        #expect(binary.meta == Data(#"{"tenant":"t1"}"#.utf8))

        var request = ConnectProxyRequest()
        request.connection = connection()
        request.data = Array(#"{"a":1}"#.utf8)
        request.name = "js"
        request.version = "5"
        request.channels = ["a", "b"]
        let connect = GRPCProxyMessages.connect(request, call())
        #expect(connect.data == Data(#"{"a":1}"#.utf8) && connect.name == "js" && connect.version == "5" && connect.channels == ["a", "b"])

        let sub = GRPCProxyMessages.subscribe(connection(), channel: "chat", data: nil, call(meta: true))
        #expect(sub.channel == "chat" && sub.data.isEmpty && sub.b64Data.isEmpty && !sub.meta.isEmpty)
        #expect(GRPCProxyMessages.refresh(connection(), call()).meta.isEmpty)
        #expect(GRPCProxyMessages.subRefresh(connection(), channel: "chat", call(meta: true)).user == "56")
    }

    @Test func resultsTakeB64FieldsFirstAndRefuseBadBase64() throws {
        var r = Centrifugal_Centrifugo_Proxy_ConnectResult()
        r.user = "56"
        r.expireAt = 1_893_456_000
        r.info = Data("raw".utf8)
        r.b64Info = "aW5mbw=="
        r.data = Data("data".utf8)
        r.meta = Data(#"{"m":1}"#.utf8)
        r.channels = ["news"]
        var opts = Centrifugal_Centrifugo_Proxy_SubscribeOptions()
        opts.b64Data = "eA=="
        opts.override.presence.value = true
        r.subs["chat"] = opts
        let connect = try GRPCProxyMessages.connect(r)
        #expect(connect.user == "56" && connect.expireAt == 1_893_456_000 && connect.info == Array("info".utf8))
        #expect(connect.data == Array("data".utf8) && connect.meta == Array(#"{"m":1}"#.utf8) && connect.channels == ["news"])
        #expect(connect.subs["chat"]?.data == Array("x".utf8) && connect.subs["chat"]?.presence == true && connect.subs["chat"]?.joinLeave == nil)

        r.b64Info = "not base64!"
        #expect(throws: ProxyDecodeError.self) { try GRPCProxyMessages.connect(r) }

        var refresh = Centrifugal_Centrifugo_Proxy_RefreshResult()
        refresh.b64Info = "%%%"
        #expect(GRPCProxyMessages.refresh(refresh).invalidInfo)
        var subRefresh = Centrifugal_Centrifugo_Proxy_SubRefreshResult()
        subRefresh.b64Info = "%%%"
        #expect(GRPCProxyMessages.subRefresh(subRefresh).expired)
    }

    /// The publish result is the one where `data` wins over `b64data`.
    @Test func publishDataWinsOverB64Data() throws {
        var p = Centrifugal_Centrifugo_Proxy_PublishResult()
        p.data = Data("d".utf8)
        p.b64Data = "eA=="
        p.skipHistory = true
        p.tags = ["k": "v"]
        p.idempotencyKey = "i"
        p.delta = true
        p.version = 3
        p.versionEpoch = "e"
        let r = try GRPCProxyMessages.publish(p)
        #expect(r.data == Array("d".utf8) && r.skipHistory && r.tags == ["k": "v"] && r.idempotencyKey == "i" && r.delta && r.version == 3)
        p.data = Data()
        #expect(try GRPCProxyMessages.publish(p).data == Array("x".utf8))
        p.data = Data()
        p.b64Data = ""
        #expect(try GRPCProxyMessages.publish(p).data == nil)
    }

    @Test func disconnectThenErrorThenResult() {
        var d = Centrifugal_Centrifugo_Proxy_Disconnect()
        d.code = 4500
        d.reason = "bye"
        var e = Centrifugal_Centrifugo_Proxy_Error()
        e.code = 403
        e.message = "no"
        e.temporary = true
        guard case .disconnect(4500, "bye") = GRPCProxyMessages.answer(disconnect: d, error: e, result: { 1 }) else {
            Issue.record("disconnect first")
            return
        }
        guard case .error(403, "no", true) = GRPCProxyMessages.answer(disconnect: nil, error: e, result: { 1 }) else {
            Issue.record("then error")
            return
        }
        guard case .result(1?) = GRPCProxyMessages.answer(disconnect: nil, error: nil, result: { 1 }) else {
            Issue.record("then the result")
            return
        }
    }
}
