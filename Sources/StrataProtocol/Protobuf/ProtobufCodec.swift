import StrataCore

/// The Protobuf client protocol (`client.proto`): varint-delimited `Command`s in, one `Reply` per
/// message out. Payloads travel as bytes, so it carries any publication, binary and deltas alike.
package struct ProtobufCodec: ClientCodec {
    package init() {}

    package var kind: CodecKind { .protobuf }

    package func decode(_ message: [UInt8]) -> CommandBatch { ProtobufCommandDecoder.decodeFrame(message) }

    package func reply(id: UInt32, _ result: ReplyResult) -> [UInt8] { ProtobufReplyEncoder.reply(id: id, result: result) }
    package func error(id: UInt32, _ error: StrataError) -> [UInt8] { ProtobufReplyEncoder.error(id: id, error) }
    /// An empty `Reply`: zero bytes, framed as the single byte `00`.
    package var ping: [UInt8] { [] }

    package func canCarry(_ publications: [Publication], delta: Bool) -> Bool { true }

    package func publicationPush(channel: String, _ pub: WirePublication, delta: Bool, epoch: String) -> [UInt8]? {
        ProtobufReplyEncoder.publicationPush(channel: channel, pub, epoch: epoch)
    }

    package func joinPush(channel: String, info: ClientInfo) -> [UInt8] { ProtobufReplyEncoder.joinPush(channel: channel, info: info) }
    package func leavePush(channel: String, info: ClientInfo) -> [UInt8] { ProtobufReplyEncoder.leavePush(channel: channel, info: info) }
    package func unsubscribePush(channel: String, _ reason: Unsubscribe) -> [UInt8] {
        ProtobufReplyEncoder.unsubscribePush(channel: channel, reason)
    }
    package func subscribePush(channel: String, _ push: SubscribePush) -> [UInt8] {
        ProtobufReplyEncoder.subscribePush(channel: channel, push)
    }
    package func refreshPush(expires: Bool, ttl: UInt32) -> [UInt8] { ProtobufReplyEncoder.refreshPush(expires: expires, ttl: ttl) }
    package func disconnectPush(_ disconnect: Disconnect) -> [UInt8] { ProtobufReplyEncoder.disconnectPush(disconnect) }
}
