import Metrics
import StrataBroker
import StrataCore
import StrataProtocol
import StrataRecovery
import Synchronization

extension ClientSession {
    /// What a delivery did to a subscription (decided under the session lock).
    enum DeliveryAction {
        case none
        /// Queued (or not: `outcome`); `bytes` of it, `saved` by sending a delta instead of the full frame.
        case sent(EnqueueOutcome, bytes: Int, saved: Int)
        /// To be written at once by `writer`, once the session lock is released.
        case direct(any DirectWriter, [UInt8], saved: Int)
        case insufficient(serverSide: Bool)
        /// The subscriber's tags filter kept the publication from it.
        case filtered
        /// The payload is not JSON and this subscriber gets `data` as JSON (3506).
        case cannotCarry
    }

    /// Fan-out entry point; never blocks on the network. Returns the frame bytes queued (0:
    /// none) and the bytes a delta saved, for the hub to count once per fan-out.
    func deliverPublication(_ p: EncodedPublication) -> (bytes: Int, saved: Int) {
        let action = state.withLock { s -> DeliveryAction in
            // A connecting session has only subscriptions being set up, which buffer.
            guard s.status == .connected || s.status == .connecting, let index = s.subscriptions.index(forKey: p.channel) else {
                return .none
            }
            // In place: a subscription is a large value, and copying it out of the dictionary and
            // back cost a second lookup and a retain and release of each of its references, per
            // subscriber (the broadcast benchmark, docs/benchmarks.md).
            noteSubscriptions(at: Prefetch.address(of: s.subscriptions))
            let action = deliver(p, to: &s.subscriptions.values[index])
            if case .insufficient(serverSide: false) = action { s.subscriptions.remove(at: index) }
            return action
        }
        switch action {
        case .none: break
        case .filtered: node.metrics.tagsFilterDropped.value.increment()
        case .sent(let outcome, let bytes, let saved): if handle(outcome) { return (bytes, saved) }
        case .direct(let writer, let frame, let saved):
            writer.writeClaimed(frame)
            return (frame.count, saved)
        case .insufficient(let serverSide): insufficientState(p.channel, serverSide: serverSide)
        case .cannotCarry: disconnect(.inappropriateProtocol)
        }
        return (0, 0)
    }

    /// One publication for one subscription: buffered while the subscribe is in flight, checked
    /// against the position, then its frame (plain, full or delta) queued. Under the session lock.
    private func deliver(_ p: EncodedPublication, to sub: inout Subscription) -> DeliveryAction {
        withUnsafeMutablePointer(to: &sub) { noteSubscription(at: UInt(bitPattern: $0)) }
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
        var saved = 0
        if sub.delta {
            // A delta only onto the base the client holds: the previous offset, delivered.
            if sub.deltaReady, sub.positioned, previousOffset + 1 == p.publication.offset, let delta = p.frame(.delta, codec: codec) {
                frame = delta
                saved = p.deltaSavedBytes
            } else {
                frame = p.frame(.full, codec: codec)
            }
            sub.deltaReady = sub.positioned
        } else {
            frame = p.frame(.plain, codec: codec)
        }
        guard let frame else { return .cannotCarry }
        // Claimed here, under the session lock, where the queue would have taken it: the order
        // against a subscribe's reply is the same either way.
        switch queue.enqueueFanOut(frame) {
        case .direct(let writer): return .direct(writer, frame, saved: saved)
        case .enqueued(let result): return .sent(EnqueueOutcome(result), bytes: frame.count, saved: saved)
        }
    }

    func deliverJoinLeave(channel: String, _ push: SharedPush, _ type: FrameType) {
        let wanted = state.withLock { s in
            s.status == .connected && s.subscriptions[channel]?.pushJoinLeave == true && s.subscriptions[channel]?.isLive == true
        }
        if wanted { send(push.frame(for: codec), type) }
    }

    /// A gap or an epoch change: client-side subscriptions are told to resubscribe (2500),
    /// server-side ones reconnect (3010).
    func insufficientState(_ channel: String, serverSide: Bool) {
        if serverSide {
            disconnect(.insufficientState)
            return
        }
        node.metrics.serverUnsubscribe(code: Unsubscribe.insufficientState.code)
        // The subscription is already gone from the session; leave the channel too — recorded
        // before the client hears 2500, so its resubscribe waits for the leave to finish.
        let leave = Task {
            await node.removeSubscriber(channel, self)
            try? await node.presence.remove(channel: channel, clientID: id)
        }
        state.withLock { $0.leaving[channel] = leave }
        send(codec.unsubscribePush(channel: channel, .insufficientState), .pushUnsubscribe)
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

    /// True when the frame was queued.
    private func handle(_ outcome: EnqueueOutcome) -> Bool {
        switch outcome.result {
        case .queued: return true
        case .overflow: disconnect(.slow, dropPending: true)
        case .closed: break
        }
        return false
    }
}
