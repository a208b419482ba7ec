import Atomics
import StrataCore
import StrataHistory
import StrataProtocol

/// One publication on its way to every local subscriber of a channel. The hub hands out the
/// publication; each subscriber's codec makes the bytes, at most once per codec kind and wire
/// variant for the whole fan-out, never once per subscriber. A variant is encoded by the first
/// subscriber that needs it, so channels without delta subscribers never pay for deltas.
package final class EncodedPublication: @unchecked Sendable {
    package let channel: String
    package let publication: Publication
    package let epoch: String
    /// The previous publication of the stream, when this one was published with delta.
    let previous: Publication?

    /// How a subscriber gets the publication.
    enum Variant: Int, CaseIterable {
        /// Subscriptions without delta.
        case plain
        /// Delta subscriptions, when no delta applies: the full payload (JSON: as a string).
        case full
        /// Delta subscriptions holding the previous publication: the delta against it.
        case delta
    }

    /// An encoded frame, or nil when the codec cannot carry the publication (or, for `delta`,
    /// when no delta applies).
    private final class Frame: Sendable {
        let bytes: [UInt8]?
        init(_ bytes: [UInt8]?) { self.bytes = bytes }
    }

    /// One write-once slot per variant and codec kind, in one allocation. Reading a filled slot is
    /// one atomic load, which keeps a fan-out to thousands of subscribers free of locks. Two
    /// threads may race to fill an empty plain or full slot and both encode; the first stored
    /// wins. Deltas are dear: the fossil delta is computed once, under a lock, whatever the number
    /// of codecs framing it. (Why `@unchecked Sendable`: the slots are only touched through
    /// atomic operations, the delta only under its lock.)
    private typealias Slot = UnsafeAtomicLazyReference<Frame>
    private static let slotCount = Variant.allCases.count * CodecKind.slots
    private let slots: UnsafeMutablePointer<Slot.Storage>
    /// The delta bytes once computed: nil before, `.some(nil)` when no delta applies.
    private let delta = Locked<[UInt8]??>(nil)
    /// Payload bytes a delta subscriber does not get, once the delta is made (metrics).
    private let deltaSaving = ManagedAtomic<Int>(0)

    /// Bytes saved per delta delivery: the full payload less the delta (0 before one is made).
    var deltaSavedBytes: Int { deltaSaving.load(ordering: .relaxed) }

    package init(channel: String, result: AppendResult) {
        self.channel = channel
        self.publication = result.publication
        self.epoch = result.position.epoch
        self.previous = result.previous
        self.slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot.Storage(), count: Self.slotCount)
    }

    deinit {
        for i in 0..<Self.slotCount { _ = slots[i].dispose() }
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
    }

    /// The frame of `variant` in `codec`'s format; nil when there is none (see `Frame`).
    func frame(_ variant: Variant, codec: any ClientCodec) -> [UInt8]? {
        let slot = Slot(at: slots + (variant.rawValue * CodecKind.slots + codec.kind.slot))
        if let frame = slot.load() { return frame.bytes }
        return slot.storeIfNilThenLoad(Frame(encode(variant, codec))).bytes
    }

    private func encode(_ variant: Variant, _ codec: any ClientCodec) -> [UInt8]? {
        switch variant {
        case .plain:
            // The stream's epoch travels on a live offset-1 push, so a subscriber learns it with
            // the first publication (Centrifugo does this on every engine, for non-delta pushes).
            let firstEpoch = publication.offset == 1 ? epoch : ""
            return codec.publicationPush(channel: channel, WirePublication(publication, streamEpoch: epoch), delta: false, epoch: firstEpoch)
        case .full:
            return codec.publicationPush(channel: channel, WirePublication(publication, streamEpoch: epoch), delta: true, epoch: "")
        case .delta:
            guard let bytes = deltaBytes else { return nil }
            var d = publication
            d.data = bytes
            return codec.publicationPush(channel: channel, WirePublication(d, isDelta: true, streamEpoch: epoch), delta: true, epoch: "")
        }
    }

    /// The delta against the previous publication, or nil (no base, not smaller, or not valid
    /// UTF-8): the same bytes for every codec, which only frame them differently.
    private var deltaBytes: [UInt8]? {
        delta.withLock { cached in
            if let cached { return cached }
            var made: [UInt8]?
            if let prev = previous, prev.offset + 1 == publication.offset {
                made = DeltaPayload.make(previous: prev.data, current: publication.data)
            }
            if let made { deltaSaving.store(max(0, publication.data.count - made.count), ordering: .relaxed) }
            cached = .some(made)
            return made
        }
    }
}
