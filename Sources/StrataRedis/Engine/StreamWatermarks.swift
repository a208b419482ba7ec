import StrataCore

/// The newest stream position this node has seen of each channel, by what it saw it through:
/// `seen` takes every source (its own appends, reads, PUB/SUB deliveries) and goes to the
/// scripts, which change a stream's epoch when the stream is behind it in the same epoch;
/// `delivered` takes PUB/SUB deliveries only, which arrive in offset order, so one that goes
/// back in the same epoch proves the stream lost its tail after this node heard of it.
///
/// Offsets in an epoch only grow, so both are evidence from Redis itself, never from a client
/// (a client's claimed position could otherwise reset everyone's epoch). Bounded: two
/// generations of at most `capacity / 2` channels each; a channel not touched for a whole
/// generation is forgotten, which only weakens the check for it until it is seen again.
final class StreamWatermarks: Sendable {
    struct Marks {
        var seen: StreamPosition?
        var delivered: StreamPosition?
    }

    private struct Generations {
        var current: [String: Marks] = [:]
        var previous: [String: Marks] = [:]
    }

    private let capacity: Int
    private let generations = Locked(Generations())

    init(capacity: Int = 200_000) {
        self.capacity = max(2, capacity)
    }

    /// The newest position seen of `channel`, if any.
    func seen(_ channel: String) -> StreamPosition? {
        generations.withLock { $0.current[channel]?.seen ?? $0.previous[channel]?.seen }
    }

    /// Notes a position seen through an append or a read.
    func saw(_ channel: String, _ position: StreamPosition) {
        update(channel) { marks in marks.seen = Self.newer(marks.seen, position) }
    }

    /// Notes a position delivered through PUB/SUB; false when it is not past one delivered
    /// before in the same epoch — the stream lost its tail (the mark stays at the newest).
    func delivered(_ channel: String, _ position: StreamPosition) -> Bool {
        update(channel) { marks in
            if let last = marks.delivered, last.epoch == position.epoch, position.offset <= last.offset { return false }
            marks.delivered = position
            marks.seen = Self.newer(marks.seen, position)
            return true
        }
    }

    /// The position to keep: a new epoch replaces the old one; in the same epoch the higher offset.
    private static func newer(_ old: StreamPosition?, _ new: StreamPosition) -> StreamPosition {
        guard let old, old.epoch == new.epoch else { return new }
        return old.offset >= new.offset ? old : new
    }

    private func update<R>(_ channel: String, _ body: (inout Marks) -> R) -> R {
        generations.withLock { g in
            var marks = g.current.removeValue(forKey: channel) ?? g.previous.removeValue(forKey: channel) ?? Marks()
            let result = body(&marks)
            if g.current.count >= capacity / 2 {
                g.previous = g.current
                g.current = [:]
            }
            g.current[channel] = marks
            return result
        }
    }
}
