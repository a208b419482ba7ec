import Testing
import StrataCore
import StrataProtocol

private func decode(_ s: String) throws -> Command { try JSONCommandDecoder.decodeCommand(bytes(s)) }

/// A short tag for the request case, to compare dispatch results.
private func kind(_ r: Command.Request) -> String {
    switch r {
    case .connect: "connect"
    case .subscribe: "subscribe"
    case .unsubscribe: "unsubscribe"
    case .publish: "publish"
    case .presence: "presence"
    case .presenceStats: "presence_stats"
    case .history: "history"
    case .rpc: "rpc"
    case .send: "send"
    case .refresh: "refresh"
    case .subRefresh: "sub_refresh"
    case .empty: "empty"
    case .legacyPing: "ping"
    }
}

@Suite("JSONCommandDecoder: commands")
struct JSONCommandDecoderCommandTests {
    @Test func connectDecodesAllFields() throws {
        let cmd = try decode(
            #"{"id":1,"connect":{"token":"tok.en.x","data":{ "a" : [1, 2] },"name":"python","version":"0.7.0","#
                + #""subs":{"news":{"recover":true,"offset":"7","epoch":"EE","delta":"fossil"},"ch2":{}},"#
                + #""headers":{"h":"v"},"flag":1}}"#)
        #expect(cmd.id == 1)
        guard case .connect(let c) = cmd.request else { Issue.record("got \(kind(cmd.request))"); return }
        #expect(c.token == "tok.en.x")
        // Payloads as the client wrote them (a gRPC proxy gets these bytes, as from Centrifugo).
        #expect(c.data == bytes(#"{ "a" : [1, 2] }"#))
        #expect(c.name == "python")
        #expect(c.version == "0.7.0")
        #expect(c.subs.count == 2)
        let news = try #require(c.subs["news"])
        #expect(news.channel == "news")
        #expect(news.recover)
        #expect(news.offset == 7)
        #expect(news.epoch == "EE")
        #expect(news.delta == "fossil")
        let ch2 = try #require(c.subs["ch2"])
        #expect(ch2.channel == "ch2")
        #expect(!ch2.recover)
        #expect(ch2.offset == 0)
    }

    @Test func connectWithoutFieldsHasZeroValues() throws {
        guard case .connect(let c) = try decode(#"{"id":1,"connect":{}}"#).request else {
            Issue.record("expected connect"); return
        }
        #expect(c.token == "")
        #expect(c.data == nil)
        #expect(c.subs.isEmpty)
        #expect(c.name == "")
    }

    @Test func subscribeDecodesAllFields() throws {
        let cmd = try decode(
            #"{"id":2,"subscribe":{"channel":"chat:1","token":"t","recover":true,"epoch":"abc","offset":"5","#
                + #""data":{"x": 1},"positioned":true,"recoverable":true,"join_leave":true,"delta":"fossil","#
                + #""flag":3,"tf":{"op":"and","nodes":[{"key":"k","cmp":"in","vals":["a","b"]},{"op":"not","nodes":[{"key":"p","cmp":"gt","val":"1.5"}]}]}}}"#)
        #expect(cmd.id == 2)
        guard case .subscribe(let s) = cmd.request else { Issue.record("got \(kind(cmd.request))"); return }
        #expect(s.channel == "chat:1")
        #expect(s.token == "t")
        #expect(s.recover)
        #expect(s.epoch == "abc")
        #expect(s.offset == 5)
        #expect(s.data == bytes(#"{"x": 1}"#))
        #expect(s.positioned)
        #expect(s.recoverable)
        #expect(s.joinLeave)
        #expect(s.delta == "fossil")
        #expect(s.flag == 3)
        #expect(s.flag & SubscribeRequest.rejectUnrecoveredFlag != 0)
        #expect(
            s.tagsFilter
                == FilterNode(
                    op: "and",
                    nodes: [FilterNode(key: "k", cmp: "in", vals: ["a", "b"]), FilterNode(op: "not", nodes: [FilterNode(key: "p", cmp: "gt", val: "1.5")])]))
    }

    @Test(arguments: [#"{"tf":[]}"#, #"{"tf":{"op":1}}"#, #"{"tf":{"vals":"a"}}"#, #"{"tf":{"nodes":{}}}"#, #"{"tf":{"nodes":[1]}}"#])
    func malformedTagsFiltersAreFieldErrors(_ fields: String) {
        let json = #"{"id":2,"subscribe":{"channel":"c","# + fields.dropFirst() + "}"
        #expect(throws: (any Error).self) { try decode(json) }
    }

    @Test func subscribeOffsetAsNumberAndLargeUInt64() throws {
        guard case .subscribe(let a) = try decode(#"{"id":2,"subscribe":{"channel":"c","offset":5}}"#).request,
            case .subscribe(let b) = try decode(#"{"id":2,"subscribe":{"channel":"c","offset":"18446744073709551615"}}"#).request,
            case .subscribe(let z) = try decode(#"{"id":2,"subscribe":{"channel":"c"}}"#).request
        else { Issue.record("expected subscribes"); return }
        #expect(a.offset == 5)
        #expect(b.offset == UInt64.max)
        #expect(z.offset == 0)
        #expect(!z.recover)
        #expect(z.data == nil)
        #expect(z.tagsFilter == nil)
        #expect(z.flag == 0)
    }

    @Test func historyDecodesSinceLimitReverse() throws {
        let cmd = try decode(#"{"id":3,"history":{"channel":"h","limit":10,"since":{"offset":"4","epoch":"ep"},"reverse":true}}"#)
        guard case .history(let h) = cmd.request else { Issue.record("got \(kind(cmd.request))"); return }
        #expect(h.channel == "h")
        #expect(h.limit == 10)
        #expect(h.reverse)
        #expect(h.since == StreamPosition(offset: 4, epoch: "ep"))

        guard case .history(let plain) = try decode(#"{"id":3,"history":{"channel":"h","limit":-1}}"#).request else {
            Issue.record("expected history"); return
        }
        #expect(plain.limit == -1)
        #expect(plain.since == nil)
        #expect(!plain.reverse)
    }

    /// Publication data is opaque bytes, as in Centrifugo: kept exactly as the client wrote it.
    @Test func publishKeepsDataByteForByte() throws {
        let cmd = try decode("{\"id\":4,\"publish\":{\"channel\":\"c\",\"data\":{ \"b\" : [1, 2], \"s\": \"a  b\", \"u\":\"\\u00e9\" }}}")
        guard case .publish(let channel, let data) = cmd.request else { Issue.record("got \(kind(cmd.request))"); return }
        #expect(channel == "c")
        #expect(text(data) == #"{ "b" : [1, 2], "s": "a  b", "u":"\u00e9" }"#)
    }

    @Test("publish data of any JSON type, null too", arguments: [
        (#""text""#, #""text""#), ("[ 1 , 2 ]", "[ 1 , 2 ]"), ("12.50", "12.50"), ("true", "true"), ("null", "null"),
    ])
    func publishDataTypes(_ data: String, _ expected: String) throws {
        guard case .publish(_, let d) = try decode(#"{"id":4,"publish":{"channel":"c","data":"# + data + "}}").request else {
            Issue.record("expected publish"); return
        }
        #expect(text(d) == expected)
    }

    @Test func publishWithoutDataGivesEmptyBytes() throws {
        guard case .publish(let channel, let d) = try decode(#"{"id":4,"publish":{"channel":"c"}}"#).request else {
            Issue.record("expected publish"); return
        }
        #expect(channel == "c")
        #expect(d.isEmpty)
    }

    @Test func otherCommands() throws {
        guard case .rpc(let method, let data) = try decode(#"{"id":5,"rpc":{"method":"getX","data":{"q": 1}}}"#).request else {
            Issue.record("expected rpc"); return
        }
        #expect(method == "getX")
        #expect(text(data) == #"{"q": 1}"#)
        guard case .rpc(_, let null) = try decode(#"{"id":6,"rpc":{"method":"m","data":null}}"#).request else {
            Issue.record("expected rpc"); return
        }
        #expect(text(null) == "null")

        let send = try decode(#"{"send":{"data":["m", 1]}}"#)
        #expect(send.id == 0)
        guard case .send(let sd) = send.request else { Issue.record("expected send"); return }
        #expect(text(sd) == #"["m",1]"#)

        guard case .refresh(let token) = try decode(#"{"id":6,"refresh":{"token":"new"}}"#).request else {
            Issue.record("expected refresh"); return
        }
        #expect(token == "new")

        guard case .subRefresh(let ch, let st) = try decode(#"{"id":7,"sub_refresh":{"channel":"$p","token":"st"}}"#).request
        else { Issue.record("expected sub_refresh"); return }
        #expect(ch == "$p")
        #expect(st == "st")

        guard case .unsubscribe(let u) = try decode(#"{"id":8,"unsubscribe":{"channel":"u"}}"#).request else {
            Issue.record("expected unsubscribe"); return
        }
        #expect(u == "u")
        guard case .presence(let p) = try decode(#"{"id":9,"presence":{"channel":"p"}}"#).request else {
            Issue.record("expected presence"); return
        }
        #expect(p == "p")
        guard case .presenceStats(let ps) = try decode(#"{"id":10,"presence_stats":{"channel":"ps"}}"#).request else {
            Issue.record("expected presence_stats"); return
        }
        #expect(ps == "ps")
        #expect(kind(try decode(#"{"id":11,"ping":{}}"#).request) == "ping")
    }

    @Test func emptyObjectIsAPong() throws {
        let cmd = try decode("{}")
        #expect(cmd.id == 0)
        #expect(kind(cmd.request) == "empty")
        let withID = try decode(#"{"id":9}"#)
        #expect(withID.id == 9)
        #expect(kind(withID.request) == "empty")
    }

    @Test("first request in Centrifugo's dispatch order wins", arguments: [
        (#"{"id":1,"publish":{"channel":"p"},"subscribe":{"channel":"s"}}"#, "subscribe"),
        (#"{"id":1,"sub_refresh":{"channel":"s"},"connect":{}}"#, "connect"),
        (#"{"id":1,"rpc":{},"history":{"channel":"h"}}"#, "history"),
        (#"{"id":1,"subscribe":null,"publish":{"channel":"p"}}"#, "publish"),
        (#"{"id":1,"send":{},"refresh":{"token":"t"}}"#, "send"),
    ])
    func dispatchOrder(_ input: String, _ expected: String) throws {
        #expect(kind(try decode(input).request) == expected)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let cmd = try decode(
            #"{"id":12,"extra":[1,{"x":2}],"subscribe":{"channel":"c","type":0,"unknown":{"deep":[null]},"#
                + #""headers":{"a":"b"}},"flag":7,"zzz":null}"#)
        #expect(cmd.id == 12)
        guard case .subscribe(let s) = cmd.request else { Issue.record("got \(kind(cmd.request))"); return }
        #expect(s.channel == "c")
    }

    @Test func idAsStringIsAccepted() throws {
        #expect(try decode(#"{"id":"42","publish":{"channel":"c"}}"#).id == 42)
        #expect(try decode(#"{"id":4294967295}"#).id == UInt32.max)
    }

    @Test("wrong field types throw FieldError naming the field", arguments: [
        (#"{"id":"abc"}"#, "id"),
        (#"{"id":-1}"#, "id"),
        (#"{"id":1.5}"#, "id"),
        (#"{"id":4294967296}"#, "id"),
        (#"{"id":true}"#, "id"),
        (#"{"id":1,"subscribe":"chan"}"#, "subscribe"),
        (#"{"id":1,"subscribe":[]}"#, "subscribe"),
        (#"{"id":1,"subscribe":{"channel":1}}"#, "channel"),
        (#"{"id":1,"subscribe":{"channel":"c","recover":"yes"}}"#, "recover"),
        (#"{"id":1,"subscribe":{"channel":"c","offset":-1}}"#, "offset"),
        (#"{"id":1,"subscribe":{"channel":"c","offset":"x5"}}"#, "offset"),
        (#"{"id":1,"subscribe":{"channel":"c","offset":true}}"#, "offset"),
        (#"{"id":1,"subscribe":{"channel":"c","flag":"high"}}"#, "flag"),
        (#"{"id":1,"subscribe":{"channel":"c","tf":"x"}}"#, "tf"),
        (#"{"id":1,"subscribe":{"channel":"c","delta":1}}"#, "delta"),
        (#"{"id":1,"history":{"channel":"c","limit":"ten"}}"#, "limit"),
        (#"{"id":1,"history":{"channel":"c","limit":3000000000}}"#, "limit"),
        (#"{"id":1,"history":{"channel":"c","since":5}}"#, "since"),
        (#"{"id":1,"history":{"channel":"c","since":{"offset":"a"}}}"#, "offset"),
        (#"{"id":1,"history":{"channel":"c","reverse":1}}"#, "reverse"),
        (#"{"id":1,"connect":{"token":5}}"#, "token"),
        (#"{"id":1,"connect":{"subs":[]}}"#, "subs"),
        (#"{"id":1,"connect":{"subs":{"ch":1}}}"#, "subs"),
        (#"{"id":1,"connect":{"subs":{"ch":{"offset":"no"}}}}"#, "offset"),
        (#"{"id":1,"publish":{"channel":["c"]}}"#, "channel"),
        (#"{"id":1,"rpc":{"method":{}}}"#, "method"),
        (#"{"id":1,"refresh":{"token":false}}"#, "token"),
        (#"{"id":1,"sub_refresh":{"channel":"c","token":0}}"#, "token"),
        ("[1]", "command"),
        (#""connect""#, "command"),
        ("null", "command"),
    ])
    func wrongTypes(_ input: String, _ field: String) {
        let error = #expect(throws: FieldError.self) { try decode(input) }
        #expect(error?.field == field)
    }

    @Test func malformedJSONThrowsParseError() {
        #expect(throws: JSONParseError.self) { try decode(#"{"id":1,"publish":{"channel":"c"}"#) }
        #expect(throws: JSONParseError.self) { try decode(#"{"id":01}"#) }
    }
}

@Suite("JSONCommandDecoder: frames")
struct JSONCommandDecoderFrameTests {
    @Test func severalNewlineSeparatedCommands() throws {
        let out = JSONCommandDecoder.decodeFrame(
            bytes(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"a"}}"# + "\n" + #"{"id":3,"publish":{"channel":"a","data":1}}"#))
        #expect(out.error == nil)
        #expect(out.commands.map(\.id) == [1, 2, 3])
        #expect(out.commands.map { kind($0.request) } == ["connect", "subscribe", "publish"])
    }

    @Test("trailing newline, blank lines and CRLF are tolerated", arguments: [
        #"{"id":1}"# + "\n" + #"{"id":2}"# + "\n",
        "\n\n" + #"{"id":1}"# + "\n\n \t\n" + #"{"id":2}"# + "\n\n",
        #"{"id":1}"# + "\r\n" + #"{"id":2}"# + "\r\n",
        "  " + #"{"id":1}"# + "  \n\r\n" + #"{"id":2}"#,
    ])
    func lenientFraming(_ frame: String) {
        let out = JSONCommandDecoder.decodeFrame(bytes(frame))
        #expect(out.error == nil)
        #expect(out.commands.map(\.id) == [1, 2])
    }

    @Test func malformedSecondCommandKeepsTheFirst() throws {
        let out = JSONCommandDecoder.decodeFrame(
            bytes(#"{"id":1,"publish":{"channel":"a","data":{}}}"# + "\n" + #"{"id":2,"subscribe":"# + "\n" + #"{"id":3}"#))
        #expect(out.commands.map(\.id) == [1])
        let error = try #require(out.error)
        #expect(error is JSONParseError)
    }

    @Test func wrongTypeInSecondCommandKeepsTheFirst() throws {
        let out = JSONCommandDecoder.decodeFrame(bytes(#"{"id":1}"# + "\n" + #"{"id":2,"subscribe":{"channel":5}}"#))
        #expect(out.commands.map(\.id) == [1])
        let error = try #require(out.error as? FieldError)
        #expect(error.field == "channel")
    }

    @Test func malformedFirstCommandReturnsNothing() {
        let out = JSONCommandDecoder.decodeFrame(bytes("nope\n" + #"{"id":2}"#))
        #expect(out.commands.isEmpty)
        #expect(out.error != nil)
    }

    @Test("a frame without commands is an error", arguments: ["", "\n", "\n\n\n", "   \r\n\t"])
    func emptyFrame(_ frame: String) {
        let out = JSONCommandDecoder.decodeFrame(bytes(frame))
        #expect(out.commands.isEmpty)
        #expect(out.error != nil)
    }

    @Test func eachCommandOfAFrameKeepsItsOwnRawData() throws {
        let out = JSONCommandDecoder.decodeFrame(
            bytes(#"{"id":1,"publish":{"channel":"a","data":{"n":1}}}"# + "\n" + #"{"id":2,"publish":{"channel":"b","data":[2]}}"#))
        #expect(out.error == nil)
        guard out.commands.count == 2, case .publish(let c1, let d1) = out.commands[0].request,
            case .publish(let c2, let d2) = out.commands[1].request
        else { Issue.record("expected two publishes"); return }
        #expect((c1, text(d1)) == ("a", #"{"n":1}"#))
        #expect((c2, text(d2)) == ("b", "[2]"))
    }
}
