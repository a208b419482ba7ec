import StrataCore
import SwiftProtobuf

/// uni_grpc's Protobuf (transports.md §5.5, docs/transports.md): the client's only message is a
/// `ConnectRequest` (unistream.proto's, whose field numbers are client.proto's); the server
/// sends bare `Push` messages, no `Reply` around them: first the connect push, then
/// publications and the like, pings as empty pushes (zero bytes).
package struct UnidirectionalProtobufCodec: ClientCodec {
    package init() {}

    package var kind: CodecKind { .unidirectionalProtobuf }

    /// The connect request, as the connect command the session runs.
    package func decode(_ message: [UInt8]) -> CommandBatch {
        .oneWayConnect { try Self.connectRequest(message) }
    }

    /// A `ConnectRequest` message; throws on bytes that are not one.
    package static func connectRequest(_ bytes: [UInt8]) throws -> ConnectRequest {
        ProtobufCommandDecoder.connect(try PB.ConnectRequest(serializedBytes: bytes))
    }

    /// The connect result is the connect push; a one-way connection has no other replies, and
    /// its session turns errors into disconnects, so the rest is never written.
    package func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] {
        if case .connect(let r) = result { return ProtobufReplyEncoder.connectPush(r) }
        return ProtobufReplyEncoder.reply(id: id, result: result)
    }

    package func error(id: UInt32, _ error: StrataError) -> [UInt8] { ProtobufReplyEncoder.error(id: id, error) }
    /// An empty `Push`.
    package var ping: [UInt8] { [] }

    package func canCarry(_ publications: [Publication], delta: Bool) -> Bool { true }

    package func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        ProtobufReplyEncoder.publicationPush(channel: channel, pub, epoch: epoch, bare: true)
    }
    package func joinPush(channel: String, info: ClientInfo) -> [UInt8] { ProtobufReplyEncoder.joinPush(channel: channel, info: info, bare: true) }
    package func leavePush(channel: String, info: ClientInfo) -> [UInt8] {
        ProtobufReplyEncoder.leavePush(channel: channel, info: info, bare: true)
    }
    package func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] {
        ProtobufReplyEncoder.unsubscribePush(channel: channel, reason, bare: true)
    }
    package func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] {
        ProtobufReplyEncoder.subscribePush(channel: channel, push, bare: true)
    }
    package func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { ProtobufReplyEncoder.refreshPush(expires: expires, ttl: ttl, bare: true) }
    package func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { ProtobufReplyEncoder.disconnectPush(disconnect, bare: true) }
}
