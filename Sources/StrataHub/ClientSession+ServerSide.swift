import StrataAuth
import StrataCore
import StrataProtocol
import Synchronization

extension ClientSession {
    /// Server API `subscribe`: adds a server-side subscription to this live connection and tells
    /// the client with a `subscribe` push (docs/protocol/client-protocol.md §12).
    package func serverSubscribe(
        channel: String, info: [UInt8]?, data: [UInt8]?, recoverSince: StreamPosition?, expireAt: Int64?,
        override: SubscriptionOverride
    ) async throws(StrataError) {
        guard isConnected else { return }
        var request = SubscribeRequest()
        request.channel = channel
        if let recoverSince {
            request.recover = true
            request.offset = recoverSince.offset
            request.epoch = recoverSince.epoch
        }
        var options = TokenSubscribeOptions()
        options.info = info
        options.data = data
        options.override = override
        do {
            var pending = try await prepareSubscribe(request, source: .serverAPI, tokenOptions: options)
            pending.expireAt = expireAt
            state.withLock { $0.subscriptions[channel]?.expireAt = expireAt }
            let ready = try await readForSubscribe(pending)
            var failure: CommandFailure?
            let overflow = state.withLock { s -> Bool in
                switch finalizeSubscribe(&s, ready) {
                case .success(let (result, extra)):
                    var push = SubscribePush()
                    push.recoverable = result.recoverable
                    push.positioned = result.positioned
                    push.epoch = result.epoch
                    push.offset = result.offset
                    push.data = result.data
                    var messages = [codec.subscribePush(channel: channel, push)]
                    // Recovered publications follow as ordinary pushes, in offset order.
                    messages += result.publications.compactMap { w in
                        var w = w
                        w.streamEpoch = result.epoch
                        return codec.publicationPush(channel: channel, w, delta: false, epoch: "")
                    }
                    guard queue.enqueue(contentsOf: messages + extra) != .overflow else { return true }
                    countSent(messages.prefix(1), .pushSubscribe)
                    countSent(messages.dropFirst(), .pushPublication)
                    countSent(extra, .pushPublication)
                    return false
                case .failure(let f):
                    failure = f
                    return false
                }
            }
            if let failure {
                switch failure {
                case .error: await abortSubscribe(channel)
                case .disconnect(let d): disconnect(d)
                }
            }
            if overflow {
                disconnect(.slow, dropPending: true)
            } else if failure == nil {
                await announceJoin(channel)
            }
        } catch {
            switch error {
            case .error(let e):
                if e == .alreadySubscribed { return }
                throw e
            case .disconnect(let d): disconnect(d)
            }
        }
    }

    /// Server API `refresh`, as Centrifugo does it: `expired` ends the connection (3005); else
    /// `expireAt` (unix seconds, capped a year ahead) becomes its expiry — absent or 0 means it
    /// no longer expires, a past one ends it — and the client is told with a `refresh` push.
    /// A new `info` replaces the connection's (Centrifugo only applies it with an expiry).
    package func serverRefresh(expired: Bool, expireAt: Int64?, info: [UInt8]?) {
        guard isConnected else { return }
        if expired {
            disconnect(.expired)
            return
        }
        let now = node.clock.nowSeconds()
        let expiry = min(expireAt ?? 0, now + 365 * 86_400)
        if expiry > 0 && expiry <= now {
            disconnect(.expired)
            return
        }
        state.withLock { s in
            s.expireAt = expiry > 0 ? expiry : nil
            if let info { s.connInfo = info }
        }
        send(codec.refreshPush(expires: expiry > 0, ttl: expiry > 0 ? UInt32(clamping: expiry - now) : 0), .pushRefresh)
    }
}
