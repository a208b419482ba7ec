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
/// connection's pushes keep the order in which the hub sent them: a lane runs its fan-outs one
/// after another, even when it pauses one (`LaneFanOut`). A session without a lane
/// (tests, a transport that has no event loop) is delivered to on the fan-out thread, as before.
package protocol DeliveryLane: AnyObject, Sendable {
    /// Runs `fanOut` on the lane, after everything submitted to it before, and before anything
    /// submitted after. The lane may pause it between two steps (its loop reads its sockets).
    func submit(_ fanOut: LaneFanOut)
}

extension DeliveryLane {
    /// Runs `work` on the lane as a fan-out of one step.
    package func submit(_ work: @escaping @Sendable () -> Void) {
        submit(LaneFanOut(steps: 1) { _ in work() })
    }
}

/// One lane's share of a fan-out: a step per subscriber, run in order, then `finish`.
///
/// Why steps and not one closure: a quiet fan-out writes each message at once, and to 1,000
/// subscribers that takes milliseconds of loopback writes. A lane that could only run the whole
/// fan-out had to either keep its loop's sockets waiting all that time or queue the rest for a
/// drain, and the queue's locks, wake-up and drain were a sixth of a paced SSE fan-out's CPU
/// (docs/benchmarks-log.md §9). With steps, the lane pauses the fan-out, reads its sockets,
/// and goes on writing at once.
///
/// `@unchecked Sendable`: made on the fan-out thread and handed over through the lane's lock;
/// from then on only the lane's loop runs it, one step at a time.
package final class LaneFanOut: @unchecked Sendable {
    private let steps: Int
    private var next = 0
    private let step: (Int) -> Void
    private let finish: () -> Void

    /// `step(i)` delivers to the `i`th subscriber; `finish` runs once, after the last step.
    package init(steps: Int, step: @escaping (Int) -> Void, finish: @escaping () -> Void = {}) {
        self.steps = steps
        self.step = step
        self.finish = finish
    }

    /// Runs the next step; false (after `finish`) once every step has run.
    package func runNext() -> Bool {
        guard next < steps else {
            if next == steps {
                next += 1
                finish()
            }
            return false
        }
        step(next)
        next += 1
        return true
    }

    /// Runs every step left, then `finish`.
    package func runToEnd() {
        while runNext() {}
    }
}

/// Subscribers sorted by their lane, in the order met (a node has a few lanes: one per event
/// loop and transport).
struct LaneGroups {
    typealias Group = (lane: (any DeliveryLane)?, sessions: [ClientSession])
    private(set) var groups: [Group] = []

    init(_ sessions: some Collection<ClientSession>) {
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
