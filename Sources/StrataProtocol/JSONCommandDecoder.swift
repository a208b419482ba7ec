import StrataCore

/// Decodes newline-separated JSON commands from one transport frame.
///
/// A malformed command ends decoding with an error (the caller disconnects with 3501) but the
/// commands before it are returned first, because Centrifugo processes them before failing.
package enum JSONCommandDecoder {
    package struct Output: Sendable {
        package var commands: [Command]
        package var error: (any Error)?
    }

    package static func decodeFrame(_ frame: [UInt8]) -> Output {
        var commands: [Command] = []
        var start = 0
        let n = frame.count
        while start < n {
            var end = start
            while end < n, frame[end] != 0x0A { end += 1 }
            // Blank lines (and a trailing newline) are skipped rather than fatal: clients never send
            // them on purpose, and leniency costs nothing.
            if !isBlank(frame, start..<end) {
                do {
                    commands.append(try decodeCommand(frame, range: start..<end))
                } catch {
                    return Output(commands: commands, error: error)
                }
            }
            start = end + 1
        }
        if commands.isEmpty { return Output(commands: [], error: FieldError(field: "frame", reason: "no commands")) }
        return Output(commands: commands, error: nil)
    }

    private static func isBlank(_ b: [UInt8], _ r: Range<Int>) -> Bool {
        for i in r where !(b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D) { return false }
        return true
    }

    package static func decodeCommand(_ bytes: [UInt8], range: Range<Int>? = nil) throws -> Command {
        let root = try JSONParser.parse(bytes, range: range)
        guard case .object = root else { throw FieldError(field: "command", reason: "expected object") }
        let id = try root.uint32("id")
        // The first request present wins, in Centrifugo's dispatch order.
        if let c = try root.object("connect") { return Command(id: id, request: .connect(try connect(c))) }
        if let s = try root.object("subscribe") { return Command(id: id, request: .subscribe(try subscribe(s))) }
        if let u = try root.object("unsubscribe") { return Command(id: id, request: .unsubscribe(channel: try u.string("channel"))) }
        if let p = try root.object("publish") {
            return Command(id: id, request: .publish(channel: try p.string("channel"), data: p.verbatimJSON("data") ?? []))
        }
        if let p = try root.object("presence") { return Command(id: id, request: .presence(channel: try p.string("channel"))) }
        if let p = try root.object("presence_stats") {
            return Command(id: id, request: .presenceStats(channel: try p.string("channel")))
        }
        if let h = try root.object("history") { return Command(id: id, request: .history(try history(h))) }
        if let r = try root.object("rpc") {
            return Command(id: id, request: .rpc(method: try r.string("method"), data: r.verbatimJSON("data") ?? []))
        }
        if let s = try root.object("send") { return Command(id: id, request: .send(data: s.rawJSON("data") ?? [])) }
        if let r = try root.object("refresh") { return Command(id: id, request: .refresh(token: try r.string("token"))) }
        if let r = try root.object("sub_refresh") {
            return Command(id: id, request: .subRefresh(channel: try r.string("channel"), token: try r.string("token")))
        }
        if try root.object("ping") != nil { return Command(id: id, request: .legacyPing) }
        return Command(id: id, request: .empty)
    }

    static func connect(_ v: JSONValue) throws -> ConnectRequest {
        var r = ConnectRequest()
        r.token = try v.string("token")
        r.data = v.verbatimJSON("data")
        r.name = try v.string("name")
        r.version = try v.string("version")
        if let headers = try v.object("headers"), case .object(let members) = headers {
            for m in members {
                guard case .string(let value) = m.value else { throw FieldError(field: "headers", reason: "expected string values") }
                r.headers[m.key] = value
            }
        }
        if let subs = try v.object("subs"), case .object(let members) = subs {
            for m in members {
                guard case .object = m.value else { throw FieldError(field: "subs", reason: "expected object") }
                var s = try subscribe(m.value)
                s.channel = m.key
                r.subs[m.key] = s
            }
        }
        return r
    }

    static func subscribe(_ v: JSONValue) throws -> SubscribeRequest {
        var r = SubscribeRequest()
        r.channel = try v.string("channel")
        r.token = try v.string("token")
        r.recover = try v.bool("recover")
        r.epoch = try v.string("epoch")
        r.offset = try v.uint64("offset")
        r.data = v.verbatimJSON("data")
        r.positioned = try v.bool("positioned")
        r.recoverable = try v.bool("recoverable")
        r.joinLeave = try v.bool("join_leave")
        r.delta = try v.string("delta")
        r.flag = try v.int64("flag")
        r.tagsFilter = try v.object("tf").map { node throws(FieldError) in try filterNode(node) }
        return r
    }

    /// One `FilterNode` object and its children (depth bounded by the parser's nesting limit).
    static func filterNode(_ v: JSONValue) throws(FieldError) -> FilterNode {
        var node = FilterNode(op: try v.string("op"), key: try v.string("key"), cmp: try v.string("cmp"), val: try v.string("val"))
        node.vals = try v.stringArray("vals")
        if let children = v["nodes"], !children.isNull {
            guard case .array(let items) = children else { throw FieldError(field: "nodes", reason: "expected array") }
            for item in items {
                guard case .object = item else { throw FieldError(field: "nodes", reason: "expected objects") }
                node.nodes.append(try filterNode(item))
            }
        }
        return node
    }

    static func history(_ v: JSONValue) throws -> HistoryRequest {
        var r = HistoryRequest()
        r.channel = try v.string("channel")
        r.limit = try v.int32("limit")
        r.reverse = try v.bool("reverse")
        if let since = try v.object("since") {
            r.since = StreamPosition(offset: try since.uint64("offset"), epoch: try since.string("epoch"))
        }
        return r
    }
}
