import StrataCore
import StrataProtocol

/// A push that many sessions receive (a join or a leave), encoded at most once per codec kind,
/// by the first session of that kind that sends it. Joins are rare beside publications, so a
/// lock guards the cache (publications use `EncodedPublication`'s lock-free slots).
final class SharedPush: Sendable {
    private let frames = Locked<[[UInt8]?]>(Array(repeating: nil, count: CodecKind.slots))
    private let encode: @Sendable (any ClientCodec) -> [UInt8]

    init(_ encode: @escaping @Sendable (any ClientCodec) -> [UInt8]) {
        self.encode = encode
    }

    func frame(for codec: any ClientCodec) -> [UInt8] {
        let slot = codec.kind.slot
        return frames.withLock { frames in
            if let frame = frames[slot] { return frame }
            let frame = encode(codec)
            frames[slot] = frame
            return frame
        }
    }
}
