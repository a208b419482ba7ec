import Foundation
import StrataCore
import SwiftProtobuf

/// A message between nodes on a NATS broker, in Centrifugo's format so Strata and Centrifugo
/// nodes understand each other on one NATS: a `client.proto` `Push` with the channel and a
/// publication, join or leave. A publication's stream position travels as its offset and the
/// epoch as the tag `__centrifugo_epoch` (Centrifugo's "PublishWithStreamPosition"); the tag is
/// taken off before anyone sees the publication. `delta` says the publisher asked for delta
/// compression. Strata adds the tag `__strata_binary` for a payload that is not JSON (its
/// clients must know it; Centrifugo leaves the tag to its clients, which never publish such
/// payloads over JSON).
package enum BrokerPush: Equatable, Sendable {
    case publication(channel: String, Publication, position: StreamPosition?, useDelta: Bool)
    case join(channel: String, ClientInfo)
    case leave(channel: String, ClientInfo)

    static let epochTag = "__centrifugo_epoch"
    static let binaryTag = "__strata_binary"

    package struct Malformed: Error, CustomStringConvertible {
        package let description: String
    }

    package func encoded() -> [UInt8] {
        var push = PB.Push()
        switch self {
        case .publication(let channel, let publication, let position, let useDelta):
            push.channel = channel
            var p = ProtobufReplyEncoder.publication(publication, isDelta: useDelta)
            p.time = publication.time
            if let position, position.offset > 0 {
                p.offset = position.offset
                p.tags[Self.epochTag] = position.epoch
            } else {
                p.offset = 0
            }
            if !publication.isJSON { p.tags[Self.binaryTag] = "1" }
            push.pub = p
        case .join(let channel, let info):
            push.channel = channel
            var join = PB.Join()
            join.info = ProtobufReplyEncoder.clientInfo(info)
            push.join = join
        case .leave(let channel, let info):
            push.channel = channel
            var leave = PB.Leave()
            leave.info = ProtobufReplyEncoder.clientInfo(info)
            push.leave = leave
        }
        return ProtobufReplyEncoder.bytes(push)
    }

    package static func decode(_ bytes: some Collection<UInt8>) throws(Malformed) -> BrokerPush {
        let push: PB.Push
        do {
            push = try PB.Push(serializedBytes: Array(bytes))
        } catch {
            throw Malformed(description: "not a client.proto Push: \(error)")
        }
        if push.hasPub {
            let p = push.pub
            var tags = p.tags
            let epoch = tags.removeValue(forKey: epochTag)
            let binary = tags.removeValue(forKey: binaryTag) != nil
            let publication = Publication(
                offset: p.offset, data: Array(p.data), info: p.hasInfo ? clientInfo(p.info) : nil, tags: tags, time: p.time,
                isJSON: !binary)
            let position = p.offset > 0 ? StreamPosition(offset: p.offset, epoch: epoch ?? "") : nil
            return .publication(channel: push.channel, publication, position: position, useDelta: p.delta)
        }
        if push.hasJoin { return .join(channel: push.channel, clientInfo(push.join.info)) }
        if push.hasLeave { return .leave(channel: push.channel, clientInfo(push.leave.info)) }
        throw Malformed(description: "a Push with neither publication, join nor leave")
    }

    private static func clientInfo(_ info: PB.ClientInfo) -> ClientInfo {
        ClientInfo(
            user: info.user, client: info.client, connInfo: info.connInfo.isEmpty ? nil : Array(info.connInfo),
            chanInfo: info.chanInfo.isEmpty ? nil : Array(info.chanInfo))
    }
}
