import StrataConfig
import StrataCore
import Testing

@testable import StrataProxy

/// The connection of the spec's examples.
func connection(user: String = "56", meta: String? = nil) -> ProxyConnection {
    var c = ProxyConnection()
    c.client = "0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11"
    c.transport = "websocket"
    c.user = user
    c.meta = meta.map { Array($0.utf8) }
    return c
}

func endpoint(_ backend: FakeBackend, _ event: ProxyEvent, configure: (inout StrataConfig.Proxy) -> Void = { _ in }) -> ProxyEndpoint {
    var config = StrataConfig.Proxy()
    config.endpoint = "http://backend.test/centrifugo/\(event.rawValue)"
    configure(&config)
    return ProxyEndpoint(config: config, event: event, transport: backend)
}

let prefix = #"{"client":"0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11","transport":"websocket","protocol":"json","encoding":"json","user":"56""#

@Suite struct RefreshProxyTests {
    func refresh(_ answer: String, status: Int = 200, meta: String? = nil, include: Bool = false) async
        -> (ProxyOutcome<RefreshProxyResult>, String)
    {
        let backend = FakeBackend(status: status, answer)
        let outcome = await RefreshProxy(endpoint: endpoint(backend, .refresh) { $0.includeConnectionMeta = include })
            .refresh(connection(meta: meta))
        return (outcome, backend.sent.withLock { $0.first?.body ?? "" })
    }

    @Test func theRequestIsCentrifugosJSONWithMetaOnlyWhenIncluded() async {
        let (_, plain) = await refresh("{}", meta: #"{ "tenant": "t1" }"#)
        #expect(plain == prefix + "}")
        let (_, withMeta) = await refresh("{}", meta: #"{ "tenant": "t1" }"#, include: true)
        #expect(withMeta == prefix + #","meta":{"tenant":"t1"}}"#)
    }

    @Test func theResultIsRead() async {
        let (outcome, _) = await refresh(#"{"result":{"expire_at":1893456000,"info":{"n":1},"meta":{"m":2}}}"#)
        guard case .answered(.result(let r?)) = outcome else { Issue.record("no result"); return }
        #expect(!r.expired && r.expireAt == 1_893_456_000 && r.info == Array(#"{"n":1}"#.utf8) && r.meta == Array(#"{"m":2}"#.utf8))
        #expect(!r.invalidInfo)
    }

    /// Refreshes read only the result: error and disconnect are no result (expired).
    @Test func errorsAndDisconnectsAreNoResult() async {
        for answer in [#"{"error":{"code":1000,"message":"x"}}"#, #"{"disconnect":{"code":4500,"reason":"x"}}"#, "{}"] {
            guard case .answered(.result(nil)) = await refresh(answer).0 else { Issue.record("\(answer) gave a result"); return }
        }
        guard case .answered(.result(let r?)) = await refresh(#"{"result":{"expired":true},"error":{"code":1}}"#).0, r.expired else {
            Issue.record("the result was not read")
            return
        }
    }

    @Test func badB64InfoIsMarkedAndIllTypedAnswersFail() async {
        guard case .answered(.result(let r?)) = await refresh(#"{"result":{"expire_at":10,"b64info":"!!"}}"#).0 else {
            Issue.record("no result")
            return
        }
        #expect(r.invalidInfo)
        guard case .failed = await refresh(#"{"result":{"expired":"yes"}}"#).0 else { Issue.record("taken"); return }
        guard case .failed = await refresh("{}", status: 503).0 else { Issue.record("503 taken"); return }
    }
}

@Suite struct SubscribeProxyTests {
    @Test func theRequestIsCentrifugosJSON() async {
        let backend = FakeBackend("{}")
        let proxy = SubscribeProxy(endpoint: endpoint(backend, .subscribe) { $0.includeConnectionMeta = true })
        _ = await proxy.subscribe(connection(), channel: "chat:index", data: nil)
        _ = await proxy.subscribe(connection(meta: #"{"t":1}"#), channel: "chat:index", data: Array(#"{ "a": 1 }"#.utf8))
        let bodies = backend.sent.withLock { $0.map(\.body) }
        #expect(bodies[0] == prefix + #","channel":"chat:index"}"#)
        #expect(bodies[1] == prefix + #","channel":"chat:index","meta":{"t":1},"data":{"a":1}}"#)
    }

    @Test func theResultCarriesExpiryInfoDataAndOverrides() async {
        let answer = #"{"result":{"expire_at":1893456000,"b64info":"eyJ4IjoxfQ==","data":{"d":1},"override":{"join_leave":{"value":true}}}}"#
        let outcome = await SubscribeProxy(endpoint: endpoint(FakeBackend(answer), .subscribe)).subscribe(connection(), channel: "c", data: nil)
        guard case .answered(.result(let r?)) = outcome else { Issue.record("no result"); return }
        #expect(r.expireAt == 1_893_456_000 && r.options.info == Array(#"{"x":1}"#.utf8) && r.options.data == Array(#"{"d":1}"#.utf8))
        #expect(r.options.joinLeave == true && r.options.presence == nil)
    }

    @Test func backendErrorsPassAndBadAnswersFail() async {
        let proxy = { (answer: String) in SubscribeProxy(endpoint: endpoint(FakeBackend(answer), .subscribe)) }
        guard case .answered(.error(403, "permission denied", false)) = await proxy(#"{"error":{"code":403,"message":"permission denied"}}"#)
            .subscribe(connection(), channel: "c", data: nil)
        else { Issue.record("the error was not passed"); return }
        guard case .failed = await proxy(#"{"result":{"b64data":"%%"}}"#).subscribe(connection(), channel: "c", data: nil) else {
            Issue.record("bad base64 taken")
            return
        }
    }
}

@Suite struct PublishProxyTests {
    @Test func theRequestIsCentrifugosJSONPlainAndBinary() async {
        let backend = FakeBackend("{}")
        let data = Array(#"{"input":"hello"}"#.utf8)
        _ = await PublishProxy(endpoint: endpoint(backend, .publish)).publish(connection(), channel: "chat:index", data: data)
        _ = await PublishProxy(endpoint: endpoint(backend, .publish) { $0.binaryEncoding = true; $0.includeConnectionMeta = true })
            .publish(connection(meta: "[1]"), channel: "chat:index", data: data)
        let bodies = backend.sent.withLock { $0.map(\.body) }
        #expect(bodies[0] == prefix + #","channel":"chat:index","data":{"input":"hello"}}"#)
        #expect(
            bodies[1]
                == #"{"client":"0b8c9a6e-2f7e-4e41-9a53-6f3d6a5b2c11","transport":"websocket","protocol":"json","encoding":"binary","user":"56","channel":"chat:index","b64data":"eyJpbnB1dCI6ImhlbGxvIn0=","meta":[1]}"#
        )
    }

    func result(_ answer: String) async -> PublishProxyResult? {
        let outcome = await PublishProxy(endpoint: endpoint(FakeBackend(answer), .publish)).publish(connection(), channel: "c", data: [0x31])
        guard case .answered(.result(let r)) = outcome else { return nil }
        return r
    }

    /// Unlike every other result, `data` wins over `b64data` (and `null` is data).
    @Test func dataWinsOverB64DataAndOptionsAreRead() async {
        let r = await result(
            #"{"result":{"data":{ "x" : 1 },"b64data":"AAE=","skip_history":true,"tags":{"k":"v"},"idempotency_key":"i","delta":true,"version":7,"version_epoch":"e"}}"#
        )
        #expect(r?.data == Array(#"{"x":1}"#.utf8))
        #expect(r?.skipHistory == true && r?.tags == ["k": "v"] && r?.idempotencyKey == "i" && r?.delta == true)
        #expect(r?.version == 7 && r?.versionEpoch == "e")
        #expect(await result(#"{"result":{"b64data":"AAE="}}"#)?.data == [0, 1])
        #expect(await result(#"{"result":{"data":null}}"#)?.data == Array("null".utf8))
        #expect(await result(#"{"result":{}}"#)?.data == nil)
    }

    @Test(arguments: [#"{"result":{"version":"7"}}"#, #"{"result":{"tags":{"k":1}}}"#, #"{"result":{"b64data":"%"}}"#])
    func illTypedResultsFail(_ answer: String) async {
        guard case .failed = await PublishProxy(endpoint: endpoint(FakeBackend(answer), .publish)).publish(connection(), channel: "c", data: [0x31])
        else {
            Issue.record("\(answer) taken")
            return
        }
    }
}

@Suite struct SubRefreshProxyTests {
    func refresh(_ answer: String) async -> (ProxyOutcome<SubRefreshProxyResult>, String) {
        let backend = FakeBackend(answer)
        let outcome = await SubRefreshProxy(endpoint: endpoint(backend, .subRefresh)).refresh(connection(), channel: "chat:index")
        return (outcome, backend.sent.withLock { $0[0].body })
    }

    @Test func theRequestIsCentrifugosJSON() async {
        #expect(await refresh("{}").1 == prefix + #","channel":"chat:index"}"#)
    }

    @Test func resultsAndWhatMeansExpired() async {
        guard case .answered(.result(let r?)) = await refresh(#"{"result":{"expire_at":1893456000,"info":{"i":1}}}"#).0 else {
            Issue.record("no result")
            return
        }
        #expect(!r.expired && r.expireAt == 1_893_456_000 && r.info == Array(#"{"i":1}"#.utf8))
        guard case .answered(.result(let bad?)) = await refresh(#"{"result":{"expire_at":10,"b64info":"!"}}"#).0 else {
            Issue.record("no result")
            return
        }
        #expect(bad.expired)
        guard case .answered(.result(nil)) = await refresh(#"{"disconnect":{"code":4000,"reason":"x"}}"#).0 else {
            Issue.record("a disconnect was taken for a result")
            return
        }
    }
}
