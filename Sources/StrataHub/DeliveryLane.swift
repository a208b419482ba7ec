/// Where a connection's share of a fan-out runs: its transport's event loop.
///
/// Why: the hub used to decide and queue every delivery on the thread that fanned a publication
/// out (the LMDB writer, a broker's reader): per subscriber a session lock, a queue lock and,
/// for an idle queue, a wake-up of the connection's event loop. On one CPU that loop preempted
/// the fan-out thread to write the few queues filled so far, slept, and was woken again, dozens
/// of times per publication (docs/benchmarks-log.md §9). Now the hub hands each lane its
/// subscribers once per publication; the lane decides, queues and writes them on its own loop,
/// and the fan-out thread only sorts the subscribers by lane. With several loops, their CPUs
/// share the per-subscriber work that one thread did alone.
///
/// Everything the hub fans out takes this road (publications, joins, leaves), so a
/// connection's pushes keep the order in which the hub sent them. A session without a lane
/// (tests, a transport that has no event loop) is delivered to on the fan-out thread, as before.
package protocol DeliveryLane: AnyObject, Sendable {
    /// Runs `work` on the lane, after everything submitted to it before.
    func submit(_ work: @escaping @Sendable () -> Void)
}

/// Subscribers sorted by their lane, in the order met (a node has a few lanes: one per event
/// loop and transport).
struct LaneGroups {
    private(set) var groups: [(lane: (any DeliveryLane)?, sessions: [ClientSession])] = []

    init(_ sessions: [ClientSession]) {
        var last = -1
        for s in sessions {
            // Consecutive subscribers often share a lane: try the last one first.
            if last >= 0, groups[last].lane === s.lane {
                groups[last].sessions.append(s)
                continue
            }
            if let i = groups.firstIndex(where: { $0.lane === s.lane }) {
                groups[i].sessions.append(s)
                last = i
            } else {
                var list: [ClientSession] = []
                // Most fan-outs have one lane per loop: the first takes its share without regrowing.
                if groups.isEmpty { list.reserveCapacity(sessions.count) }
                list.append(s)
                groups.append((s.lane, list))
                last = groups.count - 1
            }
        }
    }
}
