import Testing
import StrataCore
import StrataProtocol

private func reply(_ id: UInt32, _ result: ReplyResult) -> String { text(JSONReplyEncoder.reply(id: id, result: result)) }

@Suite("JSONReplyEncoder: replies")
struct JSONReplyEncoderReplyTests {
    @Test func emptyResultsAlwaysCarryTheirKey() {
        #expect(reply(3, .publish) == #"{"id":3,"publish":{}}"#)
        #expect(reply(4, .unsubscribe) == #"{"id":4,"unsubscribe":{}}"#)
        #expect(reply(2, .subscribe(SubscribeResult())) == #"{"id":2,"subscribe":{}}"#)
        #expect(reply(1, .connect(ConnectResult())) == #"{"id":1,"connect":{}}"#)
        #expect(reply(8, .rpc(data: nil)) == #"{"id":8,"rpc":{}}"#)
        #expect(reply(8, .rpc(data: [])) == #"{"id":8,"rpc":{}}"#)
        #expect(reply(9, .refresh(expires: false, ttl: 0)) == #"{"id":9,"refresh":{}}"#)
        #expect(reply(9, .subRefresh(expires: false, ttl: 0)) == #"{"id":9,"sub_refresh":{}}"#)
        #expect(text(JSONReplyEncoder.ping) == "{}")
    }

    @Test func errorReplies() {
        #expect(text(JSONReplyEncoder.error(id: 1, .permissionDenied)) == #"{"id":1,"error":{"code":103,"message":"permission denied"}}"#)
        #expect(
            text(JSONReplyEncoder.error(id: 7, .internalError))
                == #"{"id":7,"error":{"code":100,"message":"internal server error","temporary":true}}"#)
        #expect(
            text(JSONReplyEncoder.error(id: 2, .unrecoverablePosition)) == #"{"id":2,"error":{"code":112,"message":"unrecoverable position"}}"#)
        #expect(
            text(JSONReplyEncoder.error(id: 5, StrataError(code: 4000, message: "custom \"quoted\"\n")))
                == #"{"id":5,"error":{"code":4000,"message":"custom \"quoted\"\n"}}"#)
    }

    @Test func errorObjectCanOmitTemporary() {
        var w = JSONWriter()
        JSONReplyEncoder.errorObject(&w, .internalError, includeTemporary: false)
        #expect(text(w.bytes) == #"{"code":100,"message":"internal server error"}"#)
    }

    @Test func subscribeResultOmitsZeroValues() {
        var r = SubscribeResult()
        r.epoch = "pQrStUvW"
        r.offset = 4
        r.positioned = true
        r.delta = true
        // Spec example 05.
        #expect(reply(2, .subscribe(r)) == #"{"id":2,"subscribe":{"epoch":"pQrStUvW","offset":4,"positioned":true,"delta":true}}"#)
        r.data = []
        r.ttl = 0
        #expect(reply(2, .subscribe(r)) == #"{"id":2,"subscribe":{"epoch":"pQrStUvW","offset":4,"positioned":true,"delta":true}}"#)
    }

    @Test func recoveredCacheSubscribeMatchesSpecExample() {
        var r = SubscribeResult()
        r.recoverable = true
        r.epoch = "kLmNoPqR"
        r.publications = [WirePublication(Publication(offset: 57, data: bytes(#"{"price":101234.5}"#), time: 1_700_000_000_000))]
        r.recovered = true
        r.positioned = true
        r.wasRecovering = true
        #expect(
            reply(2, .subscribe(r))
                == #"{"id":2,"subscribe":{"recoverable":true,"epoch":"kLmNoPqR","publications":[{"data":{"price":101234.5},"offset":57}],"recovered":true,"positioned":true,"was_recovering":true}}"#
        )
    }

    @Test func subscribeResultFieldOrderWithEverythingSet() {
        var r = SubscribeResult()
        r.expires = true
        r.ttl = 60
        r.recoverable = true
        r.epoch = "e"
        r.publications = [WirePublication(Publication(offset: 1, data: bytes("1"))), WirePublication(Publication(offset: 2, data: bytes("2")))]
        r.recovered = true
        r.offset = 9
        r.positioned = true
        r.data = bytes(#"{"d":0}"#)
        r.wasRecovering = true
        #expect(
            reply(6, .subscribe(r))
                == #"{"id":6,"subscribe":{"expires":true,"ttl":60,"recoverable":true,"epoch":"e","publications":[{"data":1,"offset":1},{"data":2,"offset":2}],"recovered":true,"offset":9,"positioned":true,"data":{"d":0},"was_recovering":true}}"#
        )
    }

    @Test func connectResultOmitsZeroValues() {
        var r = ConnectResult()
        r.client = "c-1"
        r.version = "0.0.0 OSS"
        r.ping = 25
        r.pong = true
        r.data = []
        #expect(reply(1, .connect(r)) == #"{"id":1,"connect":{"client":"c-1","version":"0.0.0 OSS","ping":25,"pong":true}}"#)
    }

    @Test func connectResultFieldOrderWithEverythingSet() {
        var r = ConnectResult()
        r.client = "c"
        r.version = "v"
        r.expires = true
        r.ttl = 3600
        r.data = bytes(#"{"a":1}"#)
        var sub = SubscribeResult()
        sub.recoverable = true
        sub.positioned = true
        sub.epoch = "E"
        r.subs = [(channel: "news", result: sub), (channel: "#42", result: SubscribeResult())]
        r.ping = 25
        r.pong = true
        r.session = "s"
        r.node = "n"
        r.time = 1_700_000_000_123
        #expect(
            reply(1, .connect(r))
                == ##"{"id":1,"connect":{"client":"c","version":"v","expires":true,"ttl":3600,"data":{"a":1},"subs":{"news":{"recoverable":true,"epoch":"E","positioned":true},"#42":{}},"ping":25,"pong":true,"session":"s","node":"n","time":1700000000123}}"##
        )
    }

    @Test func historyAlwaysHasPublicationsEpochAndOffset() {
        #expect(
            reply(5, .history(publications: [], top: StreamPosition(offset: 0, epoch: "")))
                == #"{"id":5,"history":{"publications":[],"epoch":"","offset":0}}"#)
        let pubs = [
            Publication(offset: 3, data: bytes(#"{"a":1}"#), info: ClientInfo(user: "u", client: "c")),
            Publication(offset: 4, data: bytes(#""s""#), tags: ["k": "v"]),
        ]
        #expect(
            reply(5, .history(publications: pubs, top: StreamPosition(offset: 4, epoch: "EP")))
                == #"{"id":5,"history":{"publications":[{"data":{"a":1},"info":{"user":"u","client":"c"},"offset":3},{"data":"s","offset":4,"tags":{"k":"v"}}],"epoch":"EP","offset":4}}"#
        )
    }

    @Test func presenceAndStats() {
        let clients = [
            ClientInfo(user: "", client: "c1"),
            ClientInfo(user: "42", client: "c2", connInfo: bytes(#"{"name":"A"}"#), chanInfo: bytes("[1]")),
        ]
        #expect(
            reply(6, .presence(clients))
                == #"{"id":6,"presence":{"presence":{"c1":{"user":"","client":"c1"},"c2":{"user":"42","client":"c2","conn_info":{"name":"A"},"chan_info":[1]}}}}"#
        )
        #expect(reply(6, .presence([])) == #"{"id":6,"presence":{"presence":{}}}"#)
        #expect(reply(7, .presenceStats(numClients: 0, numUsers: 0)) == #"{"id":7,"presence_stats":{"num_clients":0,"num_users":0}}"#)
        #expect(reply(7, .presenceStats(numClients: 3, numUsers: 2)) == #"{"id":7,"presence_stats":{"num_clients":3,"num_users":2}}"#)
    }

    @Test func rpcAndRefreshBodies() {
        #expect(reply(8, .rpc(data: bytes(#"{"r":[1]}"#))) == #"{"id":8,"rpc":{"data":{"r":[1]}}}"#)
        #expect(reply(9, .refresh(expires: true, ttl: 3600)) == #"{"id":9,"refresh":{"expires":true,"ttl":3600}}"#)
        #expect(reply(10, .subRefresh(expires: true, ttl: 5)) == #"{"id":10,"sub_refresh":{"expires":true,"ttl":5}}"#)
        #expect(reply(4_294_967_295, .publish) == #"{"id":4294967295,"publish":{}}"#)
    }
}

@Suite("JSONReplyEncoder: pushes")
struct JSONReplyEncoderPushTests {
    @Test func publicationPushMatchesSpecExample() {
        let pub = WirePublication(Publication(offset: 7, data: bytes(#"{"t":"hi"}"#), time: 123))
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "chat:1", pub, dataAsString: false))
                == #"{"push":{"channel":"chat:1","pub":{"data":{"t":"hi"},"offset":7}}}"#)
    }

    @Test func publicationPushWithInfoTagsAndDelta() {
        let info = ClientInfo(user: "u", client: "cl", connInfo: bytes(#"{"n":1}"#), chanInfo: [])
        let pub = Publication(offset: 3, data: bytes(#"{"x":1}"#), info: info, tags: ["z": "2", "a": "1", "m": "q\""])
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "c", WirePublication(pub), dataAsString: false))
                == #"{"push":{"channel":"c","pub":{"data":{"x":1},"info":{"user":"u","client":"cl","conn_info":{"n":1}},"offset":3,"tags":{"a":"1","m":"q\"","z":"2"}}}}"#
        )
        let noOffset = Publication(offset: 0, data: bytes("[]"))
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "c", WirePublication(noOffset, isDelta: true), dataAsString: false))
                == #"{"push":{"channel":"c","pub":{"data":[],"delta":true}}}"#)
    }

    @Test func joinAndLeavePushesAlwaysHaveUserAndClient() {
        let info = ClientInfo(user: "42", client: "b1f")
        #expect(text(JSONReplyEncoder.joinPush(channel: "chat:1", info: info)) == #"{"push":{"channel":"chat:1","join":{"info":{"user":"42","client":"b1f"}}}}"#)
        #expect(
            text(JSONReplyEncoder.leavePush(channel: "chat:1", info: ClientInfo(user: "", client: "")))
                == #"{"push":{"channel":"chat:1","leave":{"info":{"user":"","client":""}}}}"#)
    }

    @Test func unsubscribePushAlwaysHasCodeAndReason() {
        #expect(
            text(JSONReplyEncoder.unsubscribePush(channel: "chat:1", .server))
                == #"{"push":{"channel":"chat:1","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}"#)
        #expect(
            text(JSONReplyEncoder.unsubscribePush(channel: "c", .insufficientState))
                == #"{"push":{"channel":"c","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#)
        #expect(
            text(JSONReplyEncoder.unsubscribePush(channel: "c", Unsubscribe(code: 0, reason: "")))
                == #"{"push":{"channel":"c","unsubscribe":{"code":0,"reason":""}}}"#)
    }

    @Test func subscribeAndMessagePushes() {
        #expect(text(JSONReplyEncoder.subscribePush(channel: "c", SubscribePush())) == #"{"push":{"channel":"c","subscribe":{}}}"#)
        var s = SubscribePush()
        s.recoverable = true
        s.epoch = "E"
        s.offset = 10
        s.positioned = true
        s.data = bytes(#"{"k":"v"}"#)
        #expect(
            text(JSONReplyEncoder.subscribePush(channel: "c", s))
                == #"{"push":{"channel":"c","subscribe":{"recoverable":true,"epoch":"E","offset":10,"positioned":true,"data":{"k":"v"}}}}"#)
        #expect(text(JSONReplyEncoder.messagePush(data: bytes(#""hello""#))) == #"{"push":{"message":{"data":"hello"}}}"#)
    }

    @Test func channelNamesAreEscaped() {
        let pub = WirePublication(Publication(data: bytes("1")))
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "a\"b\\c", pub, dataAsString: false))
                == #"{"push":{"channel":"a\"b\\c","pub":{"data":1}}}"#)
    }
}

@Suite("JSONReplyEncoder: delta subscriptions carry data as a JSON string")
struct JSONReplyEncoderDeltaTests {
    @Test func fullPayloadAndDeltaMatchSpecExample05() {
        let full = Publication(offset: 5, data: bytes(#"{"x":1,"y":"abcdefghijklmnopqrstuvwxyz","z":[1,2,3]}"#))
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "doc:1", WirePublication(full), dataAsString: true))
                == #"{"push":{"channel":"doc:1","pub":{"data":"{\"x\":1,\"y\":\"abcdefghijklmnopqrstuvwxyz\",\"z\":[1,2,3]}","offset":5}}}"#
        )
        let delta = Publication(offset: 6, data: bytes("p\n5@0,1:2j@6,3MMZpF;"))
        #expect(
            text(JSONReplyEncoder.publicationPush(channel: "doc:1", WirePublication(delta, isDelta: true), dataAsString: true))
                == #"{"push":{"channel":"doc:1","pub":{"data":"p\n5@0,1:2j@6,3MMZpF;","offset":6,"delta":true}}}"#)
    }

    static let payloads: [[UInt8]] = [
        bytes(#"{"msg":"héllo 世界 😀 👨‍👩‍👧","q":"say \"hi\"\nnext\\path","u":"\u00e9"}"#),
        bytes("line1\nline2\r\n\ttabbed \"quoted\" back\\slash /slash"),
        [0x00, 0x01, 0x1F, 0x7F, 0x20] + bytes("\u{2028}\u{2029}日本語"),
        bytes("p\n5@0,1:2j@6,3MMZpF;"),
        [],
    ]

    @Test("string-encoded data round-trips to the same bytes", arguments: payloads)
    func roundTrip(_ payload: [UInt8]) throws {
        let pushBytes = JSONReplyEncoder.publicationPush(channel: "ch", WirePublication(Publication(offset: 1, data: payload)), dataAsString: true)
        // Frames are newline-separated: an encoded push must never carry a raw newline.
        #expect(!pushBytes.contains(0x0A))
        #expect(!pushBytes.contains(0x0D))
        let root = try JSONParser.parse(pushBytes)
        guard case .string(let s)? = root["push"]?["pub"]?["data"] else {
            Issue.record("data is not a string in \(text(pushBytes))"); return
        }
        #expect(Array(s.utf8) == payload)
    }

    @Test func recoveredPublicationsOfADeltaSubscriptionAreStrings() throws {
        var r = SubscribeResult()
        r.delta = true
        r.recovered = true
        let p1 = bytes(#"{"name":"Ünïcødé ✓","n":1}"#)
        let p2 = bytes("2\nX@0,3;")
        r.publications = [WirePublication(Publication(offset: 1, data: p1)), WirePublication(Publication(offset: 2, data: p2), isDelta: true)]
        let out = JSONReplyEncoder.reply(id: 2, result: .subscribe(r))
        #expect(!out.contains(0x0A))
        let root = try JSONParser.parse(out)
        guard case .array(let pubs)? = root["subscribe"]?["publications"], pubs.count == 2 else {
            Issue.record("expected two publications in \(text(out))"); return
        }
        #expect(pubs[0]["data"] == .string(text(p1)))
        #expect(pubs[0]["delta"] == nil)
        #expect(pubs[1]["data"] == .string(text(p2)))
        #expect(pubs[1]["delta"] == .bool(true))
        #expect(root["subscribe"]?["delta"] == .bool(true))
    }

    @Test func nonDeltaSubscriptionEmbedsRawJSON() throws {
        var r = SubscribeResult()
        r.recovered = true
        r.publications = [WirePublication(Publication(offset: 1, data: bytes(#"{"a":[1]}"#)))]
        let root = try JSONParser.parse(JSONReplyEncoder.reply(id: 2, result: .subscribe(r)))
        guard case .array(let pubs)? = root["subscribe"]?["publications"] else { Issue.record("no publications"); return }
        #expect(pubs.first?["data"]?["a"] == .array([.number("1")]))
    }

    /// A live push of offset 1 carries the stream's epoch after the other fields, where
    /// Centrifugo's encoder puts it; other offsets and string (delta) data carry none unless asked.
    @Test func offsetOnePushCarriesTheEpoch() {
        let first = JSONReplyEncoder.publicationPush(
            channel: "c", WirePublication(Publication(offset: 1, data: bytes("1"), tags: ["t": "v"])), dataAsString: false, epoch: "EP")
        #expect(text(first) == #"{"push":{"channel":"c","pub":{"data":1,"offset":1,"tags":{"t":"v"},"epoch":"EP"}}}"#)
        let second = JSONReplyEncoder.publicationPush(channel: "c", WirePublication(Publication(offset: 2, data: bytes("2"))), dataAsString: false)
        #expect(text(second) == #"{"push":{"channel":"c","pub":{"data":2,"offset":2}}}"#)
    }

    @Test func payloadKeepsItsBytesButNotItsNewlines() {
        var w = JSONWriter()
        w.payload(bytes("{ \"a\" :\n [1,\r\n 2.50] }"))
        #expect(text(w.bytes) == "{ \"a\" : [1,\r 2.50] }")
        var plain = JSONWriter()
        plain.payload(bytes(#"{"a":"x\ny"}"#))
        #expect(text(plain.bytes) == #"{"a":"x\ny"}"#)
    }

    @Test func onlyJSONPayloadsTravelAsJSON() {
        let json = Publication(data: bytes("1"))
        let binary = Publication(data: [0xFF], isJSON: false)
        #expect(JSONReplyEncoder.canCarry([json], dataAsString: false))
        #expect(!JSONReplyEncoder.canCarry([json, binary], dataAsString: false))
        #expect(JSONReplyEncoder.canCarry([json, binary], dataAsString: true))
    }

    @Test func refreshPush() {
        #expect(text(JSONReplyEncoder.refreshPush(expires: true, ttl: 60)) == #"{"push":{"refresh":{"expires":true,"ttl":60}}}"#)
        #expect(text(JSONReplyEncoder.refreshPush(expires: false, ttl: 0)) == #"{"push":{"refresh":{}}}"#)
    }

    @Test func invalidUTF8BecomesReplacementCharacter() {
        var w = JSONWriter()
        w.string(bytes: [0x61, 0xFF, 0x62])
        #expect(text(w.bytes) == "\"a\u{FFFD}b\"")
    }
}
