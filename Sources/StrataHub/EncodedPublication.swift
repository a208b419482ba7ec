import StrataCore
import StrataHistory
import StrataProtocol

/// One publication on its way to every local subscriber of a channel, encoded once per wire
/// variant instead of once per subscriber. The delta variants are made on first use, so channels
/// without delta subscribers never pay for them, and channels with many pay once.
public final class EncodedPublication: Sendable {
    public let channel: String
    public let publication: Publication
    public let epoch: String
    /// `{"push":{"channel":…,"pub":{…}}}` for ordinary JSON subscribers; nil when the payload
    /// is not JSON and only delta subscribers (who get `data` as a string) can receive it.
    public let jsonFrame: [UInt8]?
    /// The previous publication of the stream, when this one was published with delta.
    let previous: Publication?

    private struct DeltaFrames {
        var full: [UInt8]?
        var delta: [UInt8]??
    }

    private let deltaFrames = Locked(DeltaFrames())

    public init(channel: String, result: AppendResult) {
        self.channel = channel
        self.publication = result.publication
        self.epoch = result.position.epoch
        self.previous = result.previous
        // The stream's epoch travels on a live offset-1 push, so a subscriber learns it with the
        // first publication (Centrifugo does this on every engine).
        let firstEpoch = result.publication.offset == 1 ? result.position.epoch : ""
        self.jsonFrame =
            result.publication.isJSON
            ? JSONReplyEncoder.publicationPush(
                channel: channel, WirePublication(result.publication), dataAsString: false, epoch: firstEpoch)
            : nil
    }


    /// The full payload as a JSON string: what delta subscribers get when no delta applies.
    var fullStringFrame: [UInt8] {
        deltaFrames.withLock { f in
            if let full = f.full { return full }
            // No epoch here: Centrifugo stamps it on the ordinary JSON variant only.
            let full = JSONReplyEncoder.publicationPush(channel: channel, WirePublication(publication), dataAsString: true)
            f.full = full
            return full
        }
    }

    /// The delta against the previous publication as a JSON string, or nil (no base, not smaller,
    /// or not valid UTF-8). Computed at most once per publication.
    var deltaFrame: [UInt8]? {
        deltaFrames.withLock { f in
            if let cached = f.delta { return cached }
            var frame: [UInt8]?
            if let prev = previous, prev.offset + 1 == publication.offset,
                let delta = DeltaPayload.make(previous: prev.data, current: publication.data)
            {
                var d = publication
                d.data = delta
                frame = JSONReplyEncoder.publicationPush(channel: channel, WirePublication(d, isDelta: true), dataAsString: true)
            }
            f.delta = .some(frame)
            return frame
        }
    }
}
