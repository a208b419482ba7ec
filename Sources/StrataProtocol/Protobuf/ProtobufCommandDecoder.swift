import Foundation
import StrataCore
import SwiftProtobuf

/// Decodes the varint-delimited `Command` messages of one Protobuf transport message.
///
/// As in the JSON decoder, commands before a malformed one are returned with the error, since
/// Centrifugo runs them before it disconnects (3501). A frame with no command at all is an error.
/// Unknown fields are skipped (clients built from newer schemas send some); a length prefix that
/// is the last thing in the frame is an error here, where Centrifugo ignores it after a first
/// command (no client produces it).
package enum ProtobufCommandDecoder {
    /// Nesting deeper than this (tag filters are recursive) is refused rather than recursed into.
    static let depthLimit = 32

    package static func decodeFrame(_ frame: [UInt8]) -> CommandBatch {
        var commands: [Command] = []
        var offset = 0
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depthLimit
        // Unknown fields are skipped, not kept: nothing reads them, and a client could otherwise
        // make the server hold every byte it sends.
        options.discardUnknownFields = true
        do {
            while let range = try VarintFraming.next(in: frame, at: &offset) {
                let message = try PB.Command(serializedBytes: Array(frame[range]), options: options)
                commands.append(command(message))
            }
        } catch {
            return CommandBatch(commands: commands, error: error)
        }
        if commands.isEmpty { return CommandBatch(commands: [], error: FieldError(field: "frame", reason: "no commands")) }
        return CommandBatch(commands: commands, error: nil)
    }

    /// The first request present wins, in Centrifugo's dispatch order (as for JSON).
    static func command(_ c: PB.Command) -> Command {
        let id = c.id
        if c.hasConnect { return Command(id: id, request: .connect(connect(c.connect))) }
        if c.hasSubscribe { return Command(id: id, request: .subscribe(subscribe(c.subscribe))) }
        if c.hasUnsubscribe { return Command(id: id, request: .unsubscribe(channel: c.unsubscribe.channel)) }
        if c.hasPublish { return Command(id: id, request: .publish(channel: c.publish.channel, data: Array(c.publish.data))) }
        if c.hasPresence { return Command(id: id, request: .presence(channel: c.presence.channel)) }
        if c.hasPresenceStats { return Command(id: id, request: .presenceStats(channel: c.presenceStats.channel)) }
        if c.hasHistory { return Command(id: id, request: .history(history(c.history))) }
        if c.hasRpc { return Command(id: id, request: .rpc(method: c.rpc.method, data: Array(c.rpc.data))) }
        if c.hasSend { return Command(id: id, request: .send(data: Array(c.send.data))) }
        if c.hasRefresh { return Command(id: id, request: .refresh(token: c.refresh.token)) }
        if c.hasSubRefresh { return Command(id: id, request: .subRefresh(channel: c.subRefresh.channel, token: c.subRefresh.token)) }
        if c.hasPing { return Command(id: id, request: .legacyPing) }
        return Command(id: id, request: .empty)
    }

    static func connect(_ c: PB.ConnectRequest) -> ConnectRequest {
        var r = ConnectRequest()
        r.token = c.token
        r.data = optionalBytes(c.data)
        r.name = c.name
        r.version = c.version
        r.headers = c.headers
        for (channel, s) in c.subs {
            var sub = subscribe(s)
            sub.channel = channel
            r.subs[channel] = sub
        }
        return r
    }

    static func subscribe(_ s: PB.SubscribeRequest) -> SubscribeRequest {
        var r = SubscribeRequest()
        r.channel = s.channel
        r.token = s.token
        r.recover = s.recover
        r.epoch = s.epoch
        r.offset = s.offset
        r.data = optionalBytes(s.data)
        r.positioned = s.positioned
        r.recoverable = s.recoverable
        r.joinLeave = s.joinLeave
        r.delta = s.delta
        r.flag = s.flag
        if s.hasTf { r.tagsFilter = filterNode(s.tf) }
        return r
    }

    static func filterNode(_ n: PB.FilterNode) -> FilterNode {
        FilterNode(op: n.op, key: n.key, cmp: n.cmp, val: n.val, vals: n.vals, nodes: n.nodes.map(filterNode))
    }

    static func history(_ h: PB.HistoryRequest) -> HistoryRequest {
        var r = HistoryRequest()
        r.channel = h.channel
        r.limit = h.limit
        r.reverse = h.reverse
        if h.hasSince { r.since = StreamPosition(offset: h.since.offset, epoch: h.since.epoch) }
        return r
    }

    /// Protobuf has no null: an empty `bytes` field is an absent one.
    private static func optionalBytes(_ data: Data) -> [UInt8]? {
        data.isEmpty ? nil : Array(data)
    }
}
