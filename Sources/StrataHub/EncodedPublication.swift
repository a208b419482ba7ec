import StrataCore
import StrataHistory
import StrataProtocol

/// One publication on its way to every local subscriber of a channel, encoded once per wire
/// variant instead of once per subscriber.
public struct EncodedPublication: Sendable {
    public let channel: String
    public let publication: Publication
    public let epoch: String
    /// `{"push":{"channel":…,"pub":{…}}}` for ordinary JSON subscribers.
    public let jsonFrame: [UInt8]

    public init(channel: String, result: AppendResult) {
        self.channel = channel
        self.publication = result.publication
        self.epoch = result.position.epoch
        self.jsonFrame = JSONReplyEncoder.publicationPush(channel: channel, WirePublication(result.publication), dataAsString: false)
    }
}
