import Logging
import Metrics
import StrataAuth
import StrataBroker
import StrataConfig
import StrataCore
import StrataHistory
import StrataProtocol
import StrataRecovery
import Synchronization

/// A subscription registered (and buffering live publications) whose reply is not written yet.
struct PendingSubscribe: Sendable {
    var channel: String
    var request: SubscribeRequest
    var options: ChannelOptions
    var recovering = false
    var read: HistoryResult?
    /// Set when `read` holds a keyed cache table's entries: the table's floor.
    var keyedFloor: UInt64?
    var data: [UInt8]?
    var expireAt: Int64?
    var now: Int64
}

extension ClientSession {
    /// Client subscribe (docs/protocol/client-protocol.md §8, docs/recovery.md).
    func subscribe(_ request: SubscribeRequest, id: UInt32) async throws(CommandFailure) -> ReplyResult? {
        let pending = try await prepareSubscribe(request, source: .client)
        let ready: PendingSubscribe
        do {
            ready = try await readForSubscribe(pending)
        } catch {
            await abortSubscribe(pending.channel)
            throw error
        }
        var failure: CommandFailure?
        let overflow = state.withLock { s -> Bool in
            switch finalizeSubscribe(&s, ready) {
            case .success(let (result, extra)):
                let reply = codec.reply(id: id, .subscribe(result))
                guard queue.enqueue(contentsOf: [reply] + extra) != .overflow else { return true }
                countSent([reply], .subscribe)
                countSent(extra, .pushPublication)
                return false
            case .failure(let f):
                failure = f
                return false
            }
        }
        if let failure {
            await abortSubscribe(pending.channel)
            throw failure
        }
        if overflow { throw .disconnect(.slow) }
        await announceJoin(pending.channel)
        return nil
    }

    /// Publishes the join of a subscription that just became live, after its reply was queued:
    /// as with Centrifugo, a subscriber that receives joins gets its own one right after the
    /// subscribe reply, and a subscription that never became live is never announced.
    func announceJoin(_ channel: String) async {
        let sub = state.withLock { s in s.subscriptions[channel] }
        guard let sub, sub.emitJoinLeave, sub.isLive else { return }
        node.metrics.joinsSent.increment()
        try? await node.broker.publishJoin(channel: channel, info: clientInfo(chanInfo: sub.chanInfo))
    }

    /// Checks, permissions and registration: afterwards the subscription buffers live publications.
    func prepareSubscribe(
        _ request: SubscribeRequest, source: SubscriptionSource, tokenOptions: TokenSubscribeOptions = TokenSubscribeOptions()
    ) async throws(CommandFailure) -> PendingSubscribe {
        let serverSide = source != .client
        // The hub's instance of the name: the fan-out looks this subscription up with it (`Hub.sharedName`).
        let channel = node.hub.sharedName(request.channel)
        let config = node.config.client
        guard !channel.isEmpty else { throw .disconnect(.badRequest) }
        if !request.delta.isEmpty && request.delta != "fossil" { throw .disconnect(.badRequest) }
        if channel.utf8.count > node.config.channel.maxLength { throw .error(.badRequest) }
        let already = state.withLock { $0.subscriptions[channel] != nil }
        if already { throw .error(.alreadySubscribed) }
        if !serverSide, config.channelLimit > 0, state.withLock({ $0.subscriptions.count }) >= config.channelLimit {
            throw .error(.limitExceeded)
        }
        var options: ChannelOptions
        do {
            options = try node.channels.validate(channel)
        } catch {
            throw .error(error)
        }

        let user = self.user
        let now = node.clock.nowSeconds()
        var pending = PendingSubscribe(channel: channel, request: request, options: options, now: now)
        var override = tokenOptions.override
        var chanInfo = tokenOptions.info
        pending.data = tokenOptions.data
        // Decided by the subscribe proxy: as in Centrifugo, only the namespace's force_* options
        // and the backend's overrides apply, not what the client asks for.
        var proxied = false

        if !serverSide {
            if !request.token.isEmpty {
                let claims: SubscriptionClaims
                do {
                    claims = try await node.subscriptionTokens.verifySubscriptionToken(request.token, now: now)
                } catch {
                    switch error {
                    case .expired: throw .error(.tokenExpired)
                    case .invalid: throw .error(.permissionDenied)
                    }
                }
                if claims.channel != channel || claims.user != user || (!claims.client.isEmpty && claims.client != id) {
                    throw .disconnect(.invalidToken)
                }
                override = claims.override
                chanInfo = claims.info
                pending.data = claims.data
                pending.expireAt = claims.subscriptionExpiry
            } else if node.channels.isPrivate(channel) {
                throw .error(.permissionDenied)
            } else if options.allowUserLimitedChannels && node.channels.hasUserBoundary(channel)
                && node.channels.isUserAllowed(channel, user: user)
            {
                // user-limited channel listing this user
            } else if let name = options.subscribeProxy, !(options.allowUserLimitedChannels && node.channels.hasUserBoundary(channel)) {
                guard let proxy = node.proxies.subscribe[name] else { throw .error(.notAvailable) }
                let decided = try await askSubscribeProxy(proxy, channel: channel, data: request.data)
                override = decided.options.override
                chanInfo = decided.options.info
                pending.data = decided.options.data
                pending.expireAt = decided.expireAt
                proxied = true
            } else if !Permissions.canSubscribe(options, user: user, insecure: config.insecure) {
                throw .error(.permissionDenied)
            }
        }
        if let expireAt = pending.expireAt, expireAt <= now { throw .error(.expired) }
        // After the permission checks, as Centrifugo: a filter the namespace does not allow, or
        // one that is not a valid tree, is a bad request (107); the connection stays.
        var tagsFilter: TagsFilter?
        if let node = request.tagsFilter, !serverSide {
            guard options.allowTagsFilter else { throw .error(.badRequest) }
            do {
                tagsFilter = try TagsFilter(node)
            } catch {
                throw .error(.badRequest)
            }
        }

        // Effective options: namespace, then token overrides, then what the client may switch on.
        if let v = override.presence { options.presence = v }
        if let v = override.joinLeave { options.joinLeave = v }
        if let v = override.forcePushJoinLeave { options.forcePushJoinLeave = v }
        if let v = override.forcePositioning { options.forcePositioning = v }
        if let v = override.forceRecovery { options.forceRecovery = v }
        let historyAllowed = Permissions.canReadHistory(options, user: user, subscribed: true, insecure: config.insecure)
        var sub = Subscription(options: options)
        sub.source = source
        sub.chanInfo = chanInfo
        sub.expireAt = pending.expireAt
        sub.tagsFilter = tagsFilter
        sub.presence = options.presence
        sub.emitJoinLeave = options.joinLeave
        let presenceAllowed = Permissions.canReadPresence(options, user: user, subscribed: true, insecure: config.insecure)
        let asked = !proxied
        sub.pushJoinLeave = options.forcePushJoinLeave || (asked && request.joinLeave && options.joinLeave && presenceAllowed)
        if options.keepsHistory {
            sub.recoverable = options.forceRecovery || (asked && request.recoverable && (options.allowRecovery || historyAllowed))
            sub.positioned =
                sub.recoverable || options.forcePositioning
                || (asked && request.positioned && (options.allowPositioning || historyAllowed))
        }
        sub.delta = !request.delta.isEmpty && options.allowedDeltaTypes.contains(request.delta)
        pending.options = options

        enum Insert { case inserted, exists, gone }
        let insert = state.withLock { s -> Insert in
            // Server-side subscriptions of the connect command are set up before the connection
            // counts as connected; everything else needs a connected session.
            guard s.status == .connected || (source.duringConnect && s.status == .connecting) else { return .gone }
            guard s.subscriptions[channel] == nil else { return .exists }
            s.subscriptions[channel] = sub
            return .inserted
        }
        switch insert {
        case .inserted: break
        case .exists: throw .error(.alreadySubscribed)
        case .gone: throw .disconnect(.badRequest)
        }

        // A leave of this channel still under way (after 2500) goes first, or it would remove
        // the new subscription from the hub.
        if let leave = state.withLock({ $0.leaving.removeValue(forKey: channel) }) { await leave.value }
        // Subscribe to the broker strictly before reading history: that is what makes recovery lossless.
        do {
            try await node.addSubscriber(channel, self)
        } catch let refused as BrokerRefusal {
            await abortSubscribe(channel)
            throw .error(refused.error)
        } catch {
            await abortSubscribe(channel)
            throw .error(.internalError)
        }
        let info = ClientInfo(user: user, client: id, connInfo: state.withLock { $0.connInfo }, chanInfo: chanInfo)
        if sub.presence { try? await node.presence.add(channel: channel, info: info) }
        // The connection may have closed (or the server unsubscribed the channel) meanwhile: whoever
        // removed the subscription may have left the channel before this session joined the hub
        // and presence, so it leaves again here, or a dead session would stay in both.
        let gone = state.withLock { s -> CommandFailure? in
            if s.status == .closed {
                s.subscriptions[channel] = nil
                return .disconnect(.badRequest)  // a no-op on a closed session
            }
            // Unsubscribed by the server API meanwhile: a temporary error, the client may retry.
            return s.subscriptions[channel] == nil ? .error(.internalError) : nil
        }
        if let gone {
            await leaveChannel(channel, sub)
            throw gone
        }
        return pending
    }

    /// Reads the stream for positioning or recovery.
    func readForSubscribe(_ p: PendingSubscribe) async throws(CommandFailure) -> PendingSubscribe {
        var p = p
        let sub = state.withLock { $0.subscriptions[p.channel] }
        guard let sub, sub.positioned else { return p }
        let cacheMode = p.options.forceRecoveryMode == .cache
        p.recovering = sub.recoverable && (p.request.recover || (cacheMode && p.options.autoCacheRecover))
        let filter: HistoryFilter
        if p.recovering && cacheMode && !p.options.cacheKeyTag.isEmpty {
            // A keyed channel: the whole table for a client without a position, else the changes.
            do {
                let since = p.request.offset > 0 ? p.request.offset : nil
                let keyed = try await node.readKeyed(channel: p.channel, since: since, options: p.options)
                p.read = HistoryResult(publications: keyed.entries.map(\.publication), top: keyed.top)
                p.keyedFloor = keyed.floor
            } catch {
                noteRecoveryFailure(.storeUnavailable, channel: p.channel, since: StreamPosition(offset: p.request.offset, epoch: p.request.epoch),
                                    top: nil, now: node.clock.nowSeconds())
                throw .error(error)
            }
            return p
        } else if p.recovering && cacheMode {
            // With a tags filter the latest value is the newest publication that matches: look
            // back as far as a recovery may.
            let limit = sub.tagsFilter == nil ? 1 : max(1, node.config.client.recoveryMaxPublicationLimit)
            filter = HistoryFilter(limit: limit, reverse: true)
        } else if p.recovering {
            let streamed = node.config.client.recoveryStreamMaxPublicationLimit
            let limit = streamed > 0 ? streamed : node.config.client.recoveryMaxPublicationLimit
            filter = HistoryFilter(since: StreamPosition(offset: p.request.offset, epoch: p.request.epoch), limit: limit > 0 ? limit : -1)
        } else {
            filter = .topOnly
        }
        do {
            p.read = try await node.readStream(channel: p.channel, filter: filter, options: p.options)
        } catch {
            if p.recovering {
                noteRecoveryFailure(.storeUnavailable, channel: p.channel, since: StreamPosition(offset: p.request.offset, epoch: p.request.epoch),
                                    top: nil, now: node.clock.nowSeconds())
            }
            throw .error(error)
        }
        return p
    }

    /// Counts a failed recovery by its reason and logs it: every one at debug level, and at
    /// info level one line per reason every 10 s, saying how many it stands for.
    func noteRecoveryFailure(_ failure: RecoveryFailure, channel: String, since: StreamPosition, top: StreamPosition?, now: Int64) {
        node.metrics.recoveryFailures[failure]?.value.increment()
        var metadata: Logger.Metadata = [
            "channel": "\(channel)", "reason": "\(failure.rawValue)", "client_offset": "\(since.offset)", "client_epoch": "\(since.epoch)",
        ]
        if let top {
            metadata["stream_offset"] = "\(top.offset)"
            metadata["stream_epoch"] = "\(top.epoch)"
        }
        if let suppressed = node.recoveryFailureLog.admit(failure.rawValue, nowMillis: now * 1000) {
            if suppressed > 0 { metadata["same_reason_since_last_line"] = "\(suppressed)" }
            node.logger.info("subscription not recovered", metadata: metadata)
        } else {
            node.logger.debug("subscription not recovered", metadata: metadata)
        }
    }

    /// Decides recovery, merges what was buffered, positions the subscription and makes it live.
    /// Runs under the session lock; returns the result plus messages to queue right after the reply.
    func finalizeSubscribe(_ s: inout State, _ p: PendingSubscribe) -> Result<(SubscribeResult, [[UInt8]]), CommandFailure> {
        guard var sub = s.subscriptions[p.channel], s.status == .connected else { return .failure(.disconnect(.badRequest)) }
        let buffered = sub.buffer ?? []
        sub.buffer = nil
        var result = SubscribeResult()
        result.data = p.data
        result.delta = sub.delta
        // A recovery was asked for (or forced by cache mode), whether or not the channel can
        // recover: Centrifugo reports the attempt even where recovery is off.
        result.wasRecovering = p.request.recover || p.recovering
        // A subscription the backend refreshes (sub_refresh proxy) is not the client's to refresh.
        if let expireAt = sub.expireAt, !sub.refreshedByProxy {
            result.expires = true
            result.ttl = UInt32(clamping: expireAt - p.now)
        }
        var after: [[UInt8]] = []
        if sub.positioned, let read = p.read {
            let config = node.config.client
            let mode: SubscribeDecision.Mode =
                if let floor = p.keyedFloor { .keyedCache(floor: floor) }
                else if p.options.forceRecoveryMode == .cache { .cache(latestOnly: p.request.delta.isEmpty) }
                else { .stream }
            let input = SubscribeDecision.Input(
                mode: mode,
                recovering: p.recovering, since: StreamPosition(offset: p.request.offset, epoch: p.request.epoch),
                rejectUnrecovered: p.request.flag & SubscribeRequest.rejectUnrecoveredFlag != 0, read: read,
                buffered: buffered.map { ($0.publication, $0.epoch) }, replyLimit: config.recoveryMaxPublicationLimit,
                streamsLongGaps: config.recoveryStreamMaxPublicationLimit > 0, tagsFilter: sub.tagsFilter)
            let positioned: SubscribeDecision.Positioned
            switch SubscribeDecision.decide(input) {
            case .reject:
                // The client asked for an error instead of an unrecovered result (112): still a
                // failed recovery, counted and logged with its reason.
                noteRecoveryFailure(RecoveryFailure.stream(since: input.since, read: read), channel: p.channel, since: input.since,
                                    top: read.top, now: p.now)
                return .failure(.error(.unrecoverablePosition))
            case .insufficientState: return .failure(.disconnect(.insufficientState))
            case .positioned(let outcome): positioned = outcome
            }
            result.positioned = true
            result.recoverable = sub.recoverable
            result.epoch = positioned.epoch
            result.offset = positioned.replyOffset
            if positioned.recovery == .recovered {
                result.recovered = true
                guard codec.canCarry(positioned.publications, delta: sub.delta) else {
                    return .failure(.disconnect(.inappropriateProtocol))
                }
                // Delta subscribers get a chain: each publication against the one before it, across
                // the reply and the pushes that follow it (streamed long-gap recovery).
                let wire = sub.delta ? DeltaPayload.chain(positioned.publications) : positioned.publications.map { WirePublication($0) }
                result.publications = Array(wire[..<positioned.inReply])
                after += wire[positioned.inReply...].compactMap { w in
                    var w = w
                    w.streamEpoch = positioned.epoch
                    return codec.publicationPush(channel: p.channel, w, delta: sub.delta, epoch: "")
                }
                // A base only if this recovery sent one: after a recovery that returned nothing,
                // the client may hold no previous data at all (it kept only the position, across
                // an application restart), so the next publication goes in full. Centrifugo
                // v6.9.1 sends a delta there; centrifuge#629 (2026-09) changed it to this.
                // The base must be the publication right before the next one: a keyed table's
                // newest entry need not be the stream's top (a tombstone a fresh client never got).
                sub.deltaReady = sub.delta && positioned.publications.last?.offset == positioned.position.offset
            }
            sub.position = positioned.position
            sub.positionConfirmedAt = p.now * 1000
            switch positioned.recovery {
            case .recovered: node.metrics.recover(recovered: true, publications: positioned.publications.count)
            case .notRecovered:
                node.metrics.recover(recovered: false, publications: positioned.publications.count)
                if let failure = positioned.failure {
                    result.recoveryFailure = failure.rawValue
                    noteRecoveryFailure(failure, channel: p.channel, since: input.since, top: read.top, now: p.now)
                }
            case .notAttempted: break
            }
        } else {
            // Not positioned: whatever arrived meanwhile simply follows the reply.
            var frames: [[UInt8]] = []
            for b in buffered where sub.tagsFilter?.matches(b.publication.tags) ?? true {
                guard let frame = b.frame(sub.delta ? .full : .plain, codec: codec) else {
                    return .failure(.disconnect(.inappropriateProtocol))
                }
                frames.append(frame)
            }
            after = frames
        }
        s.subscriptions[p.channel] = sub
        return .success((result, after))
    }

    /// Undoes a subscription whose subscribe failed.
    func abortSubscribe(_ channel: String) async {
        let sub = state.withLock { $0.subscriptions.removeValue(forKey: channel) }
        if let sub { await leaveChannel(channel, sub) }
    }

    /// Leaves a channel on this node: hub, broker, presence and the leave event (only for a
    /// subscription that became live, the only kind whose join was announced).
    func leaveChannel(_ channel: String, _ sub: Subscription) async {
        await node.removeSubscriber(channel, self)
        if sub.presence { try? await node.presence.remove(channel: channel, clientID: id) }
        if sub.emitJoinLeave && sub.isLive {
            node.metrics.leavesSent.increment()
            try? await node.broker.publishLeave(channel: channel, info: clientInfo(chanInfo: sub.chanInfo))
        }
    }

    func unsubscribeCommand(_ channel: String) async throws(CommandFailure) -> ReplyResult? {
        guard !channel.isEmpty else { throw .disconnect(.badRequest) }
        let sub = state.withLock { $0.subscriptions.removeValue(forKey: channel) }
        if let sub { await leaveChannel(channel, sub) }
        return .unsubscribe
    }

    /// Server-initiated unsubscribe: the client gets an `unsubscribe` push with `reason`.
    package func serverUnsubscribe(_ channel: String, _ reason: Unsubscribe) async {
        let sub = state.withLock { s -> Subscription? in
            guard let sub = s.subscriptions.removeValue(forKey: channel) else { return nil }
            return sub
        }
        guard let sub else { return }
        node.metrics.serverUnsubscribe(code: reason.code)
        send(codec.unsubscribePush(channel: channel, reason), .pushUnsubscribe)
        await leaveChannel(channel, sub)
    }
}
