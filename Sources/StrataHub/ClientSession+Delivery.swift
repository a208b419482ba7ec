import Metrics
import StrataBroker
import StrataCore
import StrataProtocol
import StrataRecovery

extension ClientSession {
    /// What a delivery did to a subscription (decided under the session lock).
    enum DeliveryAction {
        case none
        case sent(EnqueueOutcome)
        case insufficient(serverSide: Bool)
        /// The subscriber's tags filter kept the publication from it.
        case filtered
        /// The payload is not JSON and this subscriber gets `data` as JSON (3506).
        case cannotCarry
    }

    /// Fan-out entry point; never blocks on the network.
    func deliverPublication(_ p: EncodedPublication) {
        let action = state.withLock { s -> DeliveryAction in
            // A connecting session has only subscriptions being set up, which buffer.
            guard s.status == .connected || s.status == .connecting, let index = s.subscriptions.index(forKey: p.channel) else {
                return .none
            }
            // In place: a subscription is a large value, and copying it out of the dictionary and
            // back cost a second lookup and a retain and release of each of its references, per
            // subscriber (the broadcast benchmark, docs/benchmarks.md).
            let action = deliver(p, to: &s.subscriptions.values[index])
            if case .insufficient(serverSide: false) = action { s.subscriptions.remove(at: index) }
            return action
        }
        switch action {
        case .none: return
        case .filtered: node.metrics.tagsFilterDropped.increment()
        case .sent(let outcome): handle(outcome)
        case .insufficient(let serverSide): insufficientState(p.channel, serverSide: serverSide)
        case .cannotCarry: disconnect(.inappropriateProtocol)
        }
    }

    /// One publication for one subscription: buffered while the subscribe is in flight, checked
    /// against the position, then its frame (plain, full or delta) queued. Under the session lock.
    private func deliver(_ p: EncodedPublication, to sub: inout Subscription) -> DeliveryAction {
        if sub.buffer != nil {
            sub.buffer!.append(p)
            return .none
        }
        let previousOffset = sub.position.offset
        if sub.positioned && p.publication.offset > 0 {
            switch LivePosition.check(&sub.position, offset: p.publication.offset, epoch: p.epoch) {
            case .skip: return .none
            case .insufficientState: return .insufficient(serverSide: sub.serverSide)
            case .deliver: sub.positionConfirmedAt = p.publication.time
            }
        }
        if let filter = sub.tagsFilter, !filter.matches(p.publication.tags) {
            // The client will not hold this one: the next publication it gets cannot be a delta.
            sub.deltaReady = false
            return .filtered
        }
        let frame: [UInt8]?
        if sub.delta {
            // A delta only onto the base the client holds: the previous offset, delivered.
            if sub.deltaReady, sub.positioned, previousOffset + 1 == p.publication.offset, let delta = p.frame(.delta, codec: codec) {
                frame = delta
            } else {
                frame = p.frame(.full, codec: codec)
            }
            sub.deltaReady = sub.positioned
        } else {
            frame = p.frame(.plain, codec: codec)
        }
        guard let frame else { return .cannotCarry }
        return .sent(EnqueueOutcome(queue.enqueue(frame)))
    }

    func deliverJoinLeave(channel: String, _ push: SharedPush) {
        let wanted = state.withLock { s in
            s.status == .connected && s.subscriptions[channel]?.pushJoinLeave == true && s.subscriptions[channel]?.isLive == true
        }
        if wanted { send(push.frame(for: codec)) }
    }

    /// A gap or an epoch change: client-side subscriptions are told to resubscribe (2500),
    /// server-side ones reconnect (3010).
    func insufficientState(_ channel: String, serverSide: Bool) {
        if serverSide {
            disconnect(.insufficientState)
            return
        }
        send(codec.unsubscribePush(channel: channel, .insufficientState))
        Task {
            // The subscription is already gone from the session; leave the channel too.
            await node.removeSubscriber(channel, self)
            try? await node.presence.remove(channel: channel, clientID: id)
        }
    }

    /// The broker may have lost publications of this channel: a positioned subscription cannot
    /// know what it missed, so it recovers; an unpositioned one never had that guarantee.
    func deliveryGap(_ channel: String) {
        recoverIf(channel) { $0.positioned && $0.isLive }
    }

    /// If the live subscription to `channel` still meets `lost` (checked under the session lock,
    /// where deliveries are decided too), it is sent to recover: a client-side one is removed and
    /// told 2500, a server-side one ends the connection with 3010.
    func recoverIf(_ channel: String, _ lost: (Subscription) -> Bool) {
        let serverSide = state.withLock { s -> Bool? in
            guard s.status == .connected, let sub = s.subscriptions[channel], lost(sub) else { return nil }
            if !sub.serverSide { s.subscriptions[channel] = nil }
            return sub.serverSide
        }
        if let serverSide { insufficientState(channel, serverSide: serverSide) }
    }

    struct EnqueueOutcome {
        let result: OutboundQueue.EnqueueResult
        init(_ r: OutboundQueue.EnqueueResult) { result = r }
    }

    private func handle(_ outcome: EnqueueOutcome) {
        switch outcome.result {
        case .queued: node.metrics.sent.increment()
        case .overflow:
            node.metrics.slowDisconnects.increment()
            disconnect(.slow, dropPending: true)
        case .closed: break
        }
    }
}
