import Metrics
import StrataCore
import StrataHistory
import StrataProtocol

/// The node's registry of live connections and of which connections subscribe to which channel.
package final class Hub: Sendable {
    struct Connections {
        var byID: [String: ClientSession] = [:]
        var byUser: [String: Set<String>] = [:]
    }

    /// A channel's subscribers on this node, and the same sorted by lane as fan-outs take
    /// them, made at the first fan-out after a change and kept until the next change.
    ///
    /// Why: with a steady set of subscribers, each publication copied the set (a retain of
    /// every session) and sorted it by lane (a read of every session), two passes over cold
    /// objects per publication before any delivery (docs/benchmarks-log.md §9).
    struct ChannelSubscribers {
        var byID: [String: ClientSession] = [:]
        var lanes: [LaneGroups.Group]?

        mutating func laneGroups() -> [LaneGroups.Group] {
            if let lanes { return lanes }
            let made = LaneGroups(byID.values).groups
            lanes = made
            return made
        }
    }

    private let connections = Locked(Connections())
    private let shards: [Locked<[String: ChannelSubscribers]>]

    package init(shardCount: Int = 64) {
        shards = (0..<shardCount).map { _ in Locked([:]) }
    }

    private func shard(_ channel: String) -> Locked<[String: ChannelSubscribers]> {
        var h = Hasher()
        h.combine(channel)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    // MARK: Connections

    func addConnection(_ s: ClientSession, user: String) {
        connections.withLock { c in
            c.byID[s.id] = s
            c.byUser[user, default: []].insert(s.id)
        }
    }

    func removeConnection(_ s: ClientSession, user: String) {
        connections.withLock { c in
            c.byID[s.id] = nil
            c.byUser[user]?.remove(s.id)
            if c.byUser[user]?.isEmpty == true { c.byUser[user] = nil }
            c.byID.shrinkIfSparse()
            c.byUser.shrinkIfSparse()
        }
    }

    package func userConnectionCount(_ user: String) -> Int {
        connections.withLock { $0.byUser[user]?.count ?? 0 }
    }

    /// Connections matching a server API filter: by user, and/or a single client id.
    package func connections(user: String?, client: String?) -> [ClientSession] {
        connections.withLock { c in
            if let client, !client.isEmpty {
                guard let s = c.byID[client] else { return [] }
                if let user, s.user != user { return [] }
                return [s]
            }
            guard let user else { return Array(c.byID.values) }
            return (c.byUser[user] ?? []).compactMap { c.byID[$0] }
        }
    }

    package var connectionCount: Int { connections.withLock { $0.byID.count } }
    package var userCount: Int { connections.withLock { $0.byUser.count } }

    // MARK: Subscriptions

    /// Adds a subscriber: whether it was not one already, and whether it is the node's first
    /// for the channel.
    func addSubscriber(_ channel: String, _ s: ClientSession) -> (added: Bool, first: Bool) {
        shard(channel).withLock { map in
            let first = map[channel] == nil
            let added = map[channel, default: ChannelSubscribers()].byID.updateValue(s, forKey: s.id) == nil
            if added { map[channel]?.lanes = nil }
            return (added, first)
        }
    }

    /// Removes a subscriber: whether it was one, and whether the channel has no subscribers
    /// left on this node.
    func removeSubscriber(_ channel: String, _ s: ClientSession) -> (removed: Bool, last: Bool) {
        shard(channel).withLock { map in
            guard map[channel]?.byID.removeValue(forKey: s.id) != nil else { return (false, false) }
            if map[channel]?.byID.isEmpty == true {
                map[channel] = nil
                map.shrinkIfSparse()
                return (true, true)
            }
            map[channel]?.byID.shrinkIfSparse()
            map[channel]?.lanes = nil
            return (true, false)
        }
    }

    /// The channel's name as the hub keeps it, when the channel has subscribers here; else
    /// `channel` itself (which a first subscriber's `addSubscriber` then keeps).
    ///
    /// Why: a session keys its subscriptions by this instance, and a fan-out delivers with it
    /// too (`broadcastPublication`). Two Strings that share their storage compare equal at once;
    /// otherwise the lookup per subscriber compared the names byte by byte, from a copy of the
    /// name in every session, one more cold cache line per delivery (docs/benchmarks-log.md §9).
    func sharedName(_ channel: String) -> String {
        shard(channel).withLock { map in map.index(forKey: channel).map { map[$0].key } ?? channel }
    }

    func hasSubscribers(_ channel: String) -> Bool {
        shard(channel).withLock { $0[channel] != nil }
    }

    func subscribers(_ channel: String) -> [ClientSession] {
        shard(channel).withLock { map in map[channel].map { Array($0.byID.values) } ?? [] }
    }

    /// The subscribers sorted by lane, with the channel's name as the hub keeps it (`sharedName`).
    private func laneGroupsAndName(_ channel: String) -> (name: String, groups: [LaneGroups.Group]) {
        shard(channel).withLock { map in
            guard let i = map.index(forKey: channel) else { return (channel, []) }
            return (map[i].key, map.values[i].laneGroups())
        }
    }

    /// Channels with at least one subscriber on this node, with their subscriber counts.
    package func channels() -> [String: Int] {
        var out: [String: Int] = [:]
        for s in shards { s.withLock { map in for (ch, subs) in map { out[ch] = subs.byID.count } } }
        return out
    }

    package var subscriptionCount: Int {
        shards.reduce(0) { total, s in total + s.withLock { $0.values.reduce(0) { $0 + $1.byID.count } } }
    }

    // MARK: Fan-out

    func broadcastPublication(channel: String, result: AppendResult, metrics: NodeMetrics) {
        let (channel, groups) = laneGroupsAndName(channel)
        guard !groups.isEmpty else { return }
        let started = ContinuousClock.now
        let encoded = EncodedPublication(channel: channel, result: result)
        // The histogram gets one figure per publication: from here until the last lane is done.
        let timing = FanOutTiming(lanes: groups.count, started: started, metrics: metrics)
        for (lane, sessions) in groups {
            // Counted per transport in runs, not per delivery: a fan-out to thousands of
            // subscribers touches the metrics a few times, not thousands (docs/metrics.md).
            let tally = DeliveryTally(metrics: metrics)
            let fanOut = LaneFanOut(steps: sessions.count) { i in
                let n = sessions.count
                // Each subscriber's memory is loaded in four stages, each from what the one
                // before loaded: the session; its queue and subscription; its writer's objects;
                // what those point to (`Prefetch`). The writer's, before this delivery's write
                // (the delivery's kernel time covers their loads), the session's after it
                // (measured best of the orders tried, docs/benchmarks-log.md §9).
                if i + 1 < n { sessions[i + 1].queue.prefetchWriterPointees() }
                if i + 2 < n { sessions[i + 2].queue.prefetchWriterObjects() }
                let s = sessions[i]
                let (bytes, saved) = s.deliverPublication(encoded)
                if bytes > 0 { tally.add(s.transport, bytes: bytes, saved: saved) }
                if i + 3 < n { sessions[i + 3].prefetchForDelivery() }
                if i + 4 < n { sessions[i + 4].prefetchSession() }
            } finish: {
                tally.flush()
                timing.laneDone()
            }
            run(fanOut, on: lane)
        }
    }

    func broadcastJoin(channel: String, info: ClientInfo) {
        broadcastJoinLeave(channel, .pushJoin) { $0.joinPush(channel: channel, info: info) }
    }

    func broadcastLeave(channel: String, info: ClientInfo) {
        broadcastJoinLeave(channel, .pushLeave) { $0.leavePush(channel: channel, info: info) }
    }

    private func broadcastJoinLeave(_ channel: String, _ type: FrameType, _ encode: @escaping @Sendable (any ClientCodec) -> [UInt8]) {
        let (channel, groups) = laneGroupsAndName(channel)
        guard !groups.isEmpty else { return }
        let push = SharedPush(encode)
        for (lane, sessions) in groups {
            run(LaneFanOut(steps: sessions.count) { sessions[$0].deliverJoinLeave(channel: channel, push, type) }, on: lane)
        }
    }

    /// Runs `fanOut` on `lane`, or here for sessions without one.
    private func run(_ fanOut: LaneFanOut, on lane: (any DeliveryLane)?) {
        if let lane { lane.submit(fanOut) } else { fanOut.runToEnd() }
    }
}
