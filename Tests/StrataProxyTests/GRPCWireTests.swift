import StrataConfig
import StrataCore
import Testing

@testable import StrataProxy

/// A gRPC backend that records each call's request and call options, and answers with what the
/// test set (or throws, as an unreachable backend or a non-OK status does).
final class FakeGRPCBackend: GRPCProxyBackend {
    struct Call: Sendable {
        var event: String
        var call: GRPCProxyCall
        var data: [UInt8]?
    }
    struct Failed: Error {}

    let calls = Locked<[Call]>([])
    let fail: Bool
    /// What every call answers, as an error, a disconnect, or a result (built per event).
    let answer: ProxyAnswer<Int>

    init(answer: ProxyAnswer<Int> = .result(nil), fail: Bool = false) {
        self.answer = answer
        self.fail = fail
    }

    private func record<R>(_ event: String, _ call: GRPCProxyCall, data: [UInt8]? = nil, result: R) throws -> ProxyAnswer<R> {
        calls.withLock { $0.append(Call(event: event, call: call, data: data)) }
        if fail { throw Failed() }
        switch answer {
        case .error(let code, let message, let temporary): return .error(code: code, message: message, temporary: temporary)
        case .disconnect(let code, let reason): return .disconnect(code: code, reason: reason)
        case .result(let r): return .result(r == nil ? nil : result)
        }
    }

    func connect(_ request: ConnectProxyRequest, _ call: GRPCProxyCall) async throws -> ProxyAnswer<ConnectProxyResult> {
        var r = ConnectProxyResult()
        r.user = "56"
        return try record("connect", call, data: request.data, result: r)
    }
    func refresh(_ connection: ProxyConnection, _ call: GRPCProxyCall) async throws -> ProxyAnswer<RefreshProxyResult> {
        var r = RefreshProxyResult()
        r.expireAt = 1_893_456_000
        return try record("refresh", call, result: r)
    }
    func subscribe(_ connection: ProxyConnection, channel: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<SubscribeProxyResult>
    { try record("subscribe", call, data: data, result: SubscribeProxyResult()) }
    func publish(_ connection: ProxyConnection, channel: String, data: [UInt8], _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<PublishProxyResult>
    { try record("publish", call, data: data, result: PublishProxyResult()) }
    func subRefresh(_ connection: ProxyConnection, channel: String, _ call: GRPCProxyCall) async throws
        -> ProxyAnswer<SubRefreshProxyResult>
    { try record("sub_refresh", call, result: SubRefreshProxyResult()) }
    func rpc(_ connection: ProxyConnection, method: String, data: [UInt8]?, _ call: GRPCProxyCall) async throws -> ProxyAnswer<[UInt8]?> {
        try record("rpc", call, data: data, result: data)
    }
}

func grpcEndpoint(_ backend: FakeGRPCBackend, _ event: ProxyEvent, configure: (inout StrataConfig.Proxy) -> Void = { _ in }) -> ProxyEndpoint {
    var config = StrataConfig.Proxy()
    config.endpoint = "grpc://backend.test:9000"
    configure(&config)
    return ProxyEndpoint(config: config, event: event, wire: .grpc(backend))
}

@Suite struct GRPCWireTests {
    @Test func theEndpointIsGRPCUnlessItIsAnHTTPURL() {
        var p = StrataConfig.Proxy()
        for (endpoint, host, port) in [("grpc://backend:9000", "backend", 9000), ("127.0.0.1:10001", "127.0.0.1", 10001), ("grpc://[::1]:7/x", "::1", 7)] {
            p.endpoint = endpoint
            #expect(p.isGRPC && p.grpcTarget?.host == host && p.grpcTarget?.port == port, "\(endpoint)")
        }
        for bad in ["grpc://nohostport", "backend:notaport", ":9000", "backend:0"] {
            p.endpoint = bad
            #expect(p.isGRPC && p.grpcTarget == nil, "\(bad)")
        }
        p.endpoint = "https://backend/centrifugo"
        #expect(!p.isGRPC)
    }

    /// Static metadata, then the emulated headers the proxy lists, then the connection's HTTP
    /// headers it lists — keys lower-cased, a later layer replacing an earlier one's key — and
    /// the credentials pair; no Content-Type.
    @Test func metadataLayersAsCentrifugosDo() async {
        let backend = FakeGRPCBackend()
        let e = grpcEndpoint(backend, .rpc) {
            $0.grpc.staticMetadata = [.init(name: "x-tenant", value: "static"), .init(name: "x-static", value: "s")]
            $0.emulatedHeaders = ["authorization", "x-tenant"]
            $0.httpHeaders = ["x-tenant", "cookie"]
            $0.grpc.credentialsKey = "x-api-key"
            $0.grpc.credentialsValue = "secret"
            $0.timeoutMillis = 750
            $0.binaryEncoding = true
            $0.includeConnectionMeta = true
        }
        var c = connection()
        c.headers = ProxyHeaders(
            transport: [.init(name: "X-Tenant", value: "transport"), .init(name: "Cookie", value: "a=1"), .init(name: "X-Other", value: "o")],
            emulated: [.init(name: "Authorization", value: "Bearer t"), .init(name: "X-Tenant", value: "emulated")])
        _ = await RPCProxy(endpoint: e).call(c, method: "m", data: Array("x".utf8))
        let call = backend.calls.withLock { $0.first?.call }
        #expect(
            call?.metadata == [
                .init(name: "x-static", value: "s"), .init(name: "authorization", value: "Bearer t"),
                .init(name: "x-tenant", value: "transport"), .init(name: "cookie", value: "a=1"), .init(name: "x-api-key", value: "secret"),
            ])
        #expect(call?.timeoutMillis == 750 && call?.binaryEncoding == true && call?.includeMeta == true && call?.encoding == "binary")
    }

    /// A uni_grpc connection has no HTTP headers: its call's metadata listed in `grpc_metadata`
    /// (matched as written) is forwarded instead — as metadata to a gRPC proxy, as canonical
    /// header names to an HTTP one.
    @Test func aUniGRPCConnectionForwardsItsMetadata() async throws {
        var c = connection()
        c.headers = ProxyHeaders(metadata: [.init(name: "x-user-token", value: "u"), .init(name: "x-skip", value: "s")])
        let backend = FakeGRPCBackend()
        _ = await RPCProxy(endpoint: grpcEndpoint(backend, .rpc) { $0.grpcMetadata = ["x-user-token"] }).call(c, method: "", data: nil)
        #expect(backend.calls.withLock { $0.first?.call.metadata } == [.init(name: "x-user-token", value: "u")])

        let http = FakeBackend("{}")
        _ = await RPCProxy(endpoint: endpoint(http, .rpc) { $0.grpcMetadata = ["x-user-token"] }).call(c, method: "", data: nil)
        let headers = try #require(http.sent.withLock { $0.first?.headers })
        #expect(headers == [.init(name: "X-User-Token", value: "u"), .init(name: "Content-Type", value: "application/json")])
    }

    /// Payloads need not be JSON over gRPC: bytes the HTTP proxy cannot carry still go.
    @Test func binaryPayloadsGoWithoutBinaryEncoding() async {
        let backend = FakeGRPCBackend(answer: .result(1))
        let bytes: [UInt8] = [0xff, 0x00, 0x01]
        let outcome = await RPCProxy(endpoint: grpcEndpoint(backend, .rpc)).call(connection(), method: "m", data: bytes)
        guard case .answered(.result(let data?)) = outcome else {
            Issue.record("no answer: \(outcome)")
            return
        }
        #expect(data == bytes && backend.calls.withLock { $0.first?.data } == bytes)
        var request = ConnectProxyRequest()
        request.data = bytes
        guard case .answered(.result(let r?)) = await ConnectProxy(endpoint: grpcEndpoint(backend, .connect)).connect(request), r.user == "56"
        else {
            Issue.record("connect with binary data was not sent")
            return
        }
    }

    /// As over HTTP: the backend's error and disconnect reach the command; a refresh reads only
    /// the result (an error or disconnect means expired); a failed call is `.failed`.
    @Test func answersAndFailuresAsOverHTTP() async {
        let refused = FakeGRPCBackend(answer: .error(code: 403, message: "permission denied", temporary: false))
        guard case .answered(.error(403, "permission denied", false)) = await SubscribeProxy(endpoint: grpcEndpoint(refused, .subscribe))
            .subscribe(connection(), channel: "chat", data: nil)
        else {
            Issue.record("the error was not passed on")
            return
        }
        let gone = FakeGRPCBackend(answer: .disconnect(code: 4501, reason: "bye"))
        guard case .answered(.disconnect(4501, "bye")) = await PublishProxy(endpoint: grpcEndpoint(gone, .publish))
            .publish(connection(), channel: "chat", data: Array("{}".utf8))
        else {
            Issue.record("the disconnect was not passed on")
            return
        }
        for answer in [ProxyAnswer<Int>.error(code: 1, message: "x", temporary: false), .disconnect(code: 4500, reason: "x")] {
            guard case .answered(.result(nil)) = await RefreshProxy(endpoint: grpcEndpoint(FakeGRPCBackend(answer: answer), .refresh))
                .refresh(connection())
            else {
                Issue.record("a refresh's \(answer) was not 'no result'")
                return
            }
            guard case .answered(.result(nil)) = await SubRefreshProxy(endpoint: grpcEndpoint(FakeGRPCBackend(answer: answer), .subRefresh))
                .refresh(connection(), channel: "chat")
            else {
                Issue.record("a sub_refresh's \(answer) was not 'no result'")
                return
            }
        }
        guard case .answered(.result(let r?)) = await RefreshProxy(endpoint: grpcEndpoint(FakeGRPCBackend(answer: .result(1)), .refresh))
            .refresh(connection()), r.expireAt == 1_893_456_000
        else {
            Issue.record("the refresh result was not read")
            return
        }
        guard case .failed = await ConnectProxy(endpoint: grpcEndpoint(FakeGRPCBackend(fail: true), .connect)).connect(ConnectProxyRequest())
        else {
            Issue.record("a failing call was not .failed")
            return
        }
    }

    @Test func theProtocolLabelSaysGRPC() {
        #expect(ProxyWire.grpc(FakeGRPCBackend()).protocolName == "grpc" && ProxyWire.http(FakeBackend("{}")).protocolName == "http")
    }
}
