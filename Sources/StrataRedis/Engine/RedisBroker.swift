import Logging
import NIOCore
import NIOPosix
import StrataBroker
import StrataCore
import StrataHistory
import StrataRecordFormat

/// The broker for several nodes on Redis: a publish runs `history_add.lua`, which appends to the
/// stream and PUBLISHes to the channel's PUB/SUB name in one step; every node subscribed to that
/// name (because it has local subscribers) receives it and fans it out. Redis delivers one
/// connection's messages in order, so each node sees a channel's publications in offset order.
///
/// PUB/SUB loses what is published while a node's subscriber connection is down. When it comes
/// back, the node is told (`handleDeliveryGap`) and positioned subscribers recover from the stream.
package final class RedisBroker: Broker {
    package let store: RedisHistoryStore
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let state = Locked(State())

    private struct State {
        weak var handler: (any BrokerEventHandler)?
        /// One per shard, in shard order, once started.
        var subscribers: [RedisSubscriber] = []
        var consumers: [Task<Void, Never>] = []
    }

    package init(
        store: RedisHistoryStore, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "strata.redis.broker")
    ) {
        self.store = store
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    private var shards: RedisShards { store.shards }
    private var handler: (any BrokerEventHandler)? { state.withLock { $0.handler } }

    /// Connects a subscriber to every shard (and the command pools); throws when a Redis is unreachable.
    package func start(handler: any BrokerEventHandler) async throws {
        state.withLock { $0.handler = handler }
        // A new master (Sentinel): the PUB/SUB connection moves too, and its loss is the
        // delivery gap any reconnect is, so subscribers recover from the stream.
        shards.onMasterSwitch { [weak self] index in
            guard let subscriber = self?.state.withLock({ index < $0.subscribers.count ? $0.subscribers[index] : nil }) else { return }
            await subscriber.reconnect()
        }
        store.lostTail.withLock {
            $0 = { [weak self] channel in
                guard let self else { return }
                self.logger.error(
                    "redis stream lost its tail: new epoch, subscribers recover and are told recovered=false",
                    metadata: ["channel": "\(channel)"])
                self.handler?.handleDeliveryGap(channels: [channel])
            }
        }
        try await shards.connectAll(checkingEvictionWith: logger)
        var subscribers: [RedisSubscriber] = []
        do {
            for configuration in shards.configurations {
                // Messages are delivered on the subscriber's event loop, in order: no task switch
                // per publication between Redis and the hub.
                subscribers.append(
                    try await RedisSubscriber.connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger) { [weak self] in
                        self?.deliver($0)
                    })
            }
        } catch {
            for s in subscribers { await s.close() }
            throw error
        }
        let consumers = subscribers.map { subscriber in Task { await self.consume(subscriber) } }
        state.withLock {
            $0.subscribers = subscribers
            $0.consumers = consumers
        }
    }

    private func subscriber(for channel: String) throws(RedisError) -> RedisSubscriber {
        let index = shards.index(for: channel)
        return try state.withLock { s throws(RedisError) -> RedisSubscriber in
            guard index < s.subscribers.count else { throw RedisError(.connectionClosed, "redis broker not started") }
            return s.subscribers[index]
        }
    }

    package func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        try await store.append(
            channel: channel, publication: publication, options: options, publishTo: shards.keys.pubSub(channel), onCommit: nil)
    }

    package func publishJoin(channel: String, info: ClientInfo) async throws {
        try await publishMessage(channel, RedisPushMessage.join(info))
    }

    package func publishLeave(channel: String, info: ClientInfo) async throws {
        try await publishMessage(channel, RedisPushMessage.leave(info))
    }

    /// On the channel's connection. Join and leave need no order with publications, which take a
    /// connection of the caller's loop: each caller awaits its own commands one after another.
    private func publishMessage(_ channel: String, _ payload: [UInt8]) async throws {
        _ = try await shards.send(RESPCommand("PUBLISH", shards.keys.pubSub(channel), payload), about: channel)
    }

    /// Returns once Redis confirmed the subscription: from then on the channel's messages arrive.
    package func subscribe(channel: String) async throws {
        let subscriber = try subscriber(for: channel)
        let name = shards.keys.pubSub(channel)
        do {
            try await subscriber.subscribe([name])
        } catch {
            // The request may have gone out: take the channel back out of the subscriber's set.
            await subscriber.unsubscribe([name])
            throw error
        }
    }

    package func unsubscribe(channel: String) async throws {
        await (try subscriber(for: channel)).unsubscribe([shards.keys.pubSub(channel)])
    }

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        try await store.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }

    package func removeHistory(channel: String) async throws {
        try await store.removeHistory(channel: channel)
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await store.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }

    /// Stops delivery and closes every connection.
    package func close() async {
        let (subscribers, consumers) = state.withLock { s in
            defer {
                s.subscribers = []
                s.consumers = []
            }
            return (s.subscribers, s.consumers)
        }
        for s in subscribers { await s.close() }
        for c in consumers { await c.value }
        await shards.close()
    }

    // MARK: Delivery

    private func consume(_ subscriber: RedisSubscriber) async {
        for await event in subscriber.events {
            switch event {
            case .message(let message):
                deliver(message)  // subscribers made without the direct path (`start` always uses it)
            case .disconnected:
                logger.warning("redis pub/sub lost: publications from other nodes are not arriving")
            case .resubscribed:
                let channels = subscriber.channels.compactMap { shards.keys.channel(fromPubSub: $0) }
                logger.info("redis pub/sub back: subscribers recover from history", metadata: ["channels": "\(channels.count)"])
                handler?.handleDeliveryGap(channels: channels)
            }
        }
    }

    private func deliver(_ message: RedisPubSubMessage) {
        guard let handler, let channel = shards.keys.channel(fromPubSub: message.channel) else { return }
        do {
            switch RedisPushMessage.parse(message.payload) {
            case .publication(let offset, let epoch, let record):
                guard heard(channel, StreamPosition(offset: offset, epoch: epoch)) else { return }
                let publication = try decode(record, offset: offset)
                handler.handlePublication(
                    channel: channel, result: AppendResult(position: StreamPosition(offset: offset, epoch: epoch), publication: publication))
            case .delta(let offset, let epoch, let previousRecord, let record):
                guard heard(channel, StreamPosition(offset: offset, epoch: epoch)) else { return }
                let publication = try decode(record, offset: offset)
                let previous = previousRecord.isEmpty || offset < 2 ? nil : try decode(previousRecord, offset: offset - 1)
                handler.handlePublication(
                    channel: channel,
                    result: AppendResult(position: StreamPosition(offset: offset, epoch: epoch), publication: publication, previous: previous))
            case .unpositioned(let record):
                let publication = try decode(record, offset: 0)
                handler.handlePublication(
                    channel: channel, result: AppendResult(position: StreamPosition(offset: 0, epoch: ""), publication: publication))
            case .join(let info):
                handler.handleJoin(channel: channel, info: try ClientInfoRecord.decode(Array(info)))
            case .leave(let info):
                handler.handleLeave(channel: channel, info: try ClientInfoRecord.decode(Array(info)))
            case nil:
                logger.warning("malformed redis pub/sub message dropped", metadata: ["channel": "\(channel)"])
            }
        } catch {
            // A positioned subscriber notices the missing offset with the next publication.
            logger.warning("undecodable redis pub/sub message dropped", metadata: ["channel": "\(channel)", "error": "\(error)"])
        }
    }

    /// Whether a delivered position is news. One that is not past an earlier delivery in the
    /// same epoch means the stream lost its tail (a replica promoted behind its master, a
    /// restore from an older copy): without this check the hub would take its offsets for
    /// duplicates and drop them, and later ones would go out as if nothing were missing. The
    /// message is dropped, the stream gets a new epoch, and subscribers recover into it.
    private func heard(_ channel: String, _ position: StreamPosition) -> Bool {
        if store.watermarks.delivered(channel, position) { return true }
        logger.error(
            "redis pub/sub went back in a stream's epoch: its history lost its tail",
            metadata: ["channel": "\(channel)", "offset": "\(position.offset)", "epoch": "\(position.epoch)"])
        Task {
            do {
                try await store.rewind(channel: channel, epoch: position.epoch, metaTTLSeconds: 0)
            } catch {
                logger.error("could not give the stream a new epoch", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            // Whoever changed the epoch, this node's subscribers recover into the new one.
            handler?.handleDeliveryGap(channels: [channel])
        }
        return false
    }

    private func decode(_ record: ArraySlice<UInt8>, offset: UInt64) throws -> Publication {
        try PublicationRecord.decode(Array(record), offset: offset, decompressors: store.decompressors)
    }
}
