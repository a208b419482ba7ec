import StrataConfig
import StrataCore
import Testing

@testable import StrataProxy

/// A backend in memory: what it was sent, and what it answers.
final class FakeBackend: ProxyTransport {
    struct Sent: Sendable {
        var endpoint: String
        var body: String
        var headers: [StrataConfig.HeaderField]
        var timeoutMillis: Int64
    }

    let sent = Locked<[Sent]>([])
    let answer: Locked<Result<(Int, String), Unreachable>>

    struct Unreachable: Error {}

    init(status: Int = 200, _ body: String) {
        answer = Locked(.success((status, body)))
    }

    init(unreachable: Void) {
        answer = Locked(.failure(Unreachable()))
    }

    func post(_ endpoint: String, body: [UInt8], headers: [StrataConfig.HeaderField], timeoutMillis: Int64) async throws
        -> (status: Int, body: [UInt8])
    {
        sent.withLock { $0.append(Sent(endpoint: endpoint, body: String(decoding: body, as: UTF8.self), headers: headers, timeoutMillis: timeoutMillis)) }
        let (status, text) = try answer.withLock { $0 }.get()
        return (status, Array(text.utf8))
    }
}

func proxy(_ backend: FakeBackend, configure: (inout StrataConfig.Proxy) -> Void = { _ in }) -> ConnectProxy {
    var config = StrataConfig.Proxy()
    config.endpoint = "http://backend.test/centrifugo/connect"
    configure(&config)
    return ConnectProxy(endpoint: ProxyEndpoint(config: config, event: .connect, transport: backend))
}

func request(data: String? = nil) -> ConnectProxyRequest {
    var r = ConnectProxyRequest()
    r.connection.client = "0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11"
    r.connection.transport = "websocket"
    r.data = data.map { Array($0.utf8) }
    return r
}

@Suite struct ConnectProxyRequestTests {
    /// The spec's example, byte for byte.
    @Test func theRequestIsCentrifugosJSON() async {
        let backend = FakeBackend(#"{"result":{"user":"56"}}"#)
        var r = request(data: #"{ "foo" : "bar" }"#)
        r.name = "js"
        r.version = "5.1.0"
        _ = await proxy(backend).connect(r)
        #expect(
            backend.sent.withLock { $0[0].body }
                == #"{"client":"0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11","transport":"websocket","protocol":"json","encoding":"json","data":{"foo":"bar"},"name":"js","version":"5.1.0"}"#
        )
    }

    @Test func emptyFieldsAreLeftOutAndChannelsListed() async {
        let backend = FakeBackend("{}")
        var r = request()
        r.connection.protocolName = "protobuf"
        r.channels = ["a", "b"]
        _ = await proxy(backend).connect(r)
        #expect(backend.sent.withLock { $0[0].body }.hasSuffix(#""protocol":"protobuf","encoding":"json","channels":["a","b"]}"#))
    }

    @Test func htmlCharactersAndLineSeparatorsAreEscapedAsGoDoes() async {
        let backend = FakeBackend("{}")
        var r = request(data: #"{"html":"<b>&</b>","ls":"\#u{2028}"}"#)
        r.name = "a<b"
        _ = await proxy(backend).connect(r)
        let body = backend.sent.withLock { $0[0].body }
        #expect(body.contains(#""data":{"html":"\u003cb\u003e\u0026\u003c/b\u003e","ls":"\u2028"}"#), "\(body)")
        #expect(body.contains(#""name":"a\u003cb""#))
    }

    @Test func binaryEncodingSendsBase64AndNonJSONDataFailsWithoutIt() async {
        let backend = FakeBackend("{}")
        _ = await proxy(backend) { $0.binaryEncoding = true }.connect(request(data: #"{"input":"hello"}"#))
        #expect(backend.sent.withLock { $0[0].body }.contains(#""encoding":"binary","b64data":"eyJpbnB1dCI6ImhlbGxvIn0=""#))
        guard case .failed(let reason) = await proxy(backend).connect(request(data: "\u{1}binary")) else {
            Issue.record("non-JSON data was sent")
            return
        }
        #expect(reason.contains("not JSON"))
        #expect(backend.sent.withLock { $0.count } == 1)
    }

    @Test func headersStaticThenEmulatedThenForwardedThenContentType() async {
        let backend = FakeBackend("{}")
        let p = proxy(backend) {
            $0.staticHeaders = [
                .init(name: "X-Static", value: "s"), .init(name: "Cookie", value: "static"), .init(name: "Content-Type", value: "x"),
                .init(name: "Authorization", value: "static"), .init(name: "X-Tenant", value: "static"),
            ]
            $0.httpHeaders = ["cookie", "content-type", "x-tenant"]
            $0.emulatedHeaders = ["authorization", "x-tenant"]
            $0.timeoutMillis = 250
        }
        let headers = ProxyHeaders(
            transport: [
                .init(name: "Cookie", value: "session=1"), .init(name: "Cookie", value: "b=2"), .init(name: "Content-Type", value: "y"),
                .init(name: "X-Other", value: "not listed"), .init(name: "X-Tenant", value: "from-request"),
            ],
            emulated: [
                .init(name: "authorization", value: "Bearer e"), .init(name: "X-Tenant", value: "emulated"),
                .init(name: "Cookie", value: "emulated cookie, not listed"),
            ])
        var r = request()
        r.connection.headers = headers
        _ = await p.connect(r)
        let sent = backend.sent.withLock { $0[0] }
        #expect(
            sent.headers.map { "\($0.name): \($0.value)" } == [
                "X-Static: s", "authorization: Bearer e", "Cookie: session=1", "Cookie: b=2", "X-Tenant: from-request",
                "Content-Type: application/json",
            ])
        #expect(sent.timeoutMillis == 250 && sent.endpoint == "http://backend.test/centrifugo/connect")
    }
}

@Suite struct ConnectProxyAnswerTests {
    func outcome(status: Int = 200, _ body: String, configure: (inout StrataConfig.Proxy) -> Void = { _ in }) async
        -> ProxyOutcome<ConnectProxyResult>
    {
        await proxy(FakeBackend(status: status, body), configure: configure).connect(request())
    }

    @Test func aFullResultIsRead() async {
        let answer = #"""
            {"result":{"user":"56","expire_at":1893456000,"info":{"name":"Alex"},"b64data":"eyJ4IjoxfQ==","channels":["news"],
             "subs":{"chat:1":{"info":{"r":1},"data":null,"override":{"presence":{"value":false},"force_recovery":{"value":true}}}},
             "meta":{"tenant":"t1"},"caps":[{"x":1}]}}
            """#
        guard case .answered(.result(let r?)) = await outcome(answer) else {
            Issue.record("no result")
            return
        }
        #expect(r.user == "56" && r.expireAt == 1_893_456_000 && r.channels == ["news"])
        #expect(r.info == Array(#"{"name":"Alex"}"#.utf8) && r.data == Array(#"{"x":1}"#.utf8) && r.meta == Array(#"{"tenant":"t1"}"#.utf8))
        let sub = r.subs["chat:1"]
        #expect(sub?.info == Array(#"{"r":1}"#.utf8) && sub?.data == Array("null".utf8))
        #expect(sub?.presence == false && sub?.forceRecovery == true && sub?.joinLeave == nil)
    }

    @Test func disconnectWinsOverErrorWhichWinsOverResult() async {
        let both = #"{"result":{"user":"1"},"error":{"code":1000,"message":"custom"},"disconnect":{"code":4501,"reason":"unauthorized"}}"#
        guard case .answered(.disconnect(4501, "unauthorized")) = await outcome(both) else { Issue.record("not the disconnect"); return }
        guard case .answered(.error(1000, "custom", false)) = await outcome(#"{"result":{"user":"1"},"error":{"code":1000,"message":"custom"}}"#)
        else { Issue.record("not the error"); return }
        guard case .answered(.result(nil)) = await outcome(#"{"reconnect":true}"#) else { Issue.record("a result appeared"); return }
    }

    @Test(arguments: [
        #"{"result":{"user":56}}"#, #"{"result":{"expire_at":"10"}}"#, #"{"result":{"b64info":"!!"}}"#, "not json", "[1]",
        #"{"result":{"channels":"news"}}"#, #"{"error":{"code":-1}}"#, #"{"result":{"subs":{"c":1}}}"#,
    ])
    func illTypedAnswersAreFailures(_ body: String) async {
        guard case .failed = await outcome(body) else {
            Issue.record("\(body) was taken")
            return
        }
    }

    @Test func statusesOtherThan200FailUnlessTransformed() async {
        guard case .failed(let reason) = await outcome(status: 500, #"{"result":{"user":"1"}}"#) else { Issue.record("500 taken"); return }
        #expect(reason.contains("500"))
        let transforms: (inout StrataConfig.Proxy) -> Void = {
            $0.statusTransforms = [
                .init(statusCode: 404, outcome: .disconnect(code: 4504, reason: "not found")),
                .init(statusCode: 403, outcome: .error(code: 403, message: "forbidden", temporary: false)),
            ]
        }
        guard case .answered(.disconnect(4504, "not found")) = await outcome(status: 404, "", configure: transforms) else {
            Issue.record("404 not transformed")
            return
        }
        guard case .answered(.error(403, "forbidden", false)) = await outcome(status: 403, "", configure: transforms) else {
            Issue.record("403 not transformed")
            return
        }
    }

    @Test func anUnreachableBackendIsAFailureNamingIt() async {
        guard case .failed(let reason) = await proxy(FakeBackend(unreachable: ())).connect(request()) else {
            Issue.record("no failure")
            return
        }
        #expect(reason.contains("http://backend.test/centrifugo/connect"))
    }
}

@Suite struct RPCProxyTests {
    func rpcProxy(_ backend: FakeBackend, binary: Bool = false) -> RPCProxy {
        var config = StrataConfig.Proxy()
        config.endpoint = "http://backend.test/centrifugo/rpc"
        config.binaryEncoding = binary
        return RPCProxy(endpoint: ProxyEndpoint(config: config, event: .rpc, transport: backend))
    }

    let price = Array(#"{"params":{"object_id":12}}"#.utf8)

    /// The spec's example byte for byte; `user` is there even when empty.
    @Test func theRequestIsCentrifugosJSON() async {
        let backend = FakeBackend(#"{"result":{"data":{"price":10}}}"#)
        guard case .answered(.result(let data?)) = await rpcProxy(backend).call(connection(), method: "getCurrentPrice", data: price) else {
            Issue.record("no result")
            return
        }
        #expect(data == Array(#"{"price":10}"#.utf8))
        #expect(
            backend.sent.withLock { $0[0].body }
                == #"{"client":"0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11","transport":"websocket","protocol":"json","encoding":"json","user":"56","method":"getCurrentPrice","data":{"params":{"object_id":12}}}"#
        )
        _ = await rpcProxy(backend).call(connection(user: ""), method: "", data: nil)
        #expect(backend.sent.withLock { $0[1].body }.hasSuffix(#""encoding":"json","user":""}"#))
    }

    @Test func b64DataWinsAndNoResultIsNoData() async {
        let proxy = rpcProxy(FakeBackend(#"{"result":{"data":{"a":1},"b64data":"AAE="}}"#))
        guard case .answered(.result(let data?)) = await proxy.call(connection(), method: "m", data: price) else {
            Issue.record("no result")
            return
        }
        #expect(data == [0, 1])
        guard case .answered(.result(let none)) = await rpcProxy(FakeBackend("{}")).call(connection(), method: "m", data: price) else {
            Issue.record("not an empty result")
            return
        }
        #expect(none == nil)
    }
}
