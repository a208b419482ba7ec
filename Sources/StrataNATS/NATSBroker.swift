import Logging
import NIOCore
import NIOPosix
import StrataBroker
import StrataCore
import StrataHistory
import StrataProtocol

/// The broker on NATS (`broker.type: nats`): publications, joins and leaves travel between nodes
/// as Centrifugo's messages on `<prefix>.client.<channel>` (`BrokerPush`), so Strata and
/// Centrifugo nodes can share one NATS. A node subscribes to a channel's subject while it has
/// local subscribers, and hears its own publications back like everyone else's.
///
/// History (docs/nats.md): with `store` (the Redis engine's, shared by every node) a publish
/// appends there first and sends the publication with its position; each node checks positions
/// as with any broker, and recovery reads the shared stream. Without one (the memory and LMDB
/// engines, whose streams are each node's own), NATS carries PUB/SUB only, as in Centrifugo:
/// publications go out without a position, and history and recovery are not available — a node
/// cannot know what other nodes published while it was not listening, so a history of its own
/// would be silently incomplete.
///
/// NATS keeps nothing for a node that is not connected: when the connection comes back, every
/// channel the node follows is reported as a delivery gap, and positioned subscribers recover.
package final class NATSBroker: Broker {
    private let configuration: NATSConfiguration
    private let subjectPrefix: String
    private let store: (any HistoryStore)?
    /// Run first by `start`: connects the store's servers, so an unreachable one stops the start.
    private let prepare: @Sendable () async throws -> Void
    private let backoff: ReconnectBackoff
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state = Locked(State())

    private struct State {
        weak var handler: (any BrokerEventHandler)?
        var client: NATSClient?
        var consumer: Task<Void, Never>?
        /// Stored publications NATS did not take (the connection was down), by channel: the
        /// first one's position. Sent again once the connection is back.
        var unsent: [String: StreamPosition] = [:]
        /// Per channel that has had a delta publication, the last positioned publication heard:
        /// the base of the next one when it follows at once (Centrifugo's NATS messages carry
        /// no previous publication, so its delta subscribers get every one whole).
        var deltaBases: [String: (position: StreamPosition, publication: Publication)] = [:]
    }

    /// `prefix`: Centrifugo's `broker.nats.prefix`; subjects are `<prefix>.client.<channel>`.
    package init(
        configuration: NATSConfiguration, prefix: String, store: (any HistoryStore)?,
        prepare: @escaping @Sendable () async throws -> Void = {}, backoff: ReconnectBackoff = ReconnectBackoff(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "strata.nats")
    ) {
        self.backoff = backoff
        self.configuration = configuration
        self.subjectPrefix = prefix + ".client."
        self.store = store
        self.prepare = prepare
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    private var handler: (any BrokerEventHandler)? { state.withLock { $0.handler } }

    package func start(handler: any BrokerEventHandler) async throws {
        state.withLock { $0.handler = handler }
        try await prepare()
        let prefix = subjectPrefix
        let client = try await NATSClient.connect(configuration, backoff: backoff, eventLoopGroup: eventLoopGroup, logger: logger) {
            [weak self] subject, payload in
            guard subject.hasPrefix(prefix) else { return }
            self?.deliver(payload)
        }
        let consumer = Task { [weak self] in
            for await event in client.events {
                guard let self else { return }
                switch event {
                case .disconnected:
                    self.logger.warning("nats lost: publications from other nodes are not arriving")
                case .resubscribed:
                    let channels = client.subjects.map { String($0.dropFirst(prefix.count)) }
                    self.logger.info("nats back: subscribers recover from history", metadata: ["channels": "\(channels.count)"])
                    self.handler?.handleDeliveryGap(channels: channels)
                    await self.sendUnsent()
                }
            }
        }
        state.withLock {
            $0.client = client
            $0.consumer = consumer
        }
    }

    /// Whether the connection to NATS is up (see `NATSClient.isConnected`).
    package var isConnected: Bool { state.withLock { $0.client }?.isConnected ?? false }

    private func client() throws -> NATSClient {
        guard let client = state.withLock({ $0.client }) else { throw NATSError("nats broker not started") }
        return client
    }

    /// The channel's subject. NATS subjects are tokens separated by dots, `*` and `>` are
    /// wildcards, and whitespace ends the subject on the wire: a channel holding any of those
    /// would reach other channels' subscribers or break the protocol, so it is refused (107).
    private func subject(_ channel: String) throws -> String {
        if channel.contains(where: { $0 == "*" || $0 == ">" || $0.isWhitespace || $0.isNewline }) {
            throw BrokerRefusal(.badRequest)
        }
        return subjectPrefix + channel
    }

    package func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        let subject = try subject(channel)
        let client = try client()
        guard let store, options.retention.keepsHistory || options.idempotencyKey != nil else {
            try client.publish(subject, payload: BrokerPush.publication(channel: channel, publication, position: nil, useDelta: options.useDelta).encoded())
            return AppendResult(position: StreamPosition(offset: 0, epoch: ""), publication: publication)
        }
        // On commit, in offset order: NATS keeps one connection's messages in order.
        let logger = self.logger
        return try await store.append(channel: channel, publication: publication, options: options) { result in
            let push = BrokerPush.publication(channel: channel, result.publication, position: result.position, useDelta: options.useDelta)
            do throws(NATSError) {
                try client.publish(subject, payload: push.encoded())
            } catch {
                // Accepted: it is in the stream with its offset. It goes out from the stream
                // once this node's connection is back (`sendUnsent`); meanwhile subscribers that
                // hear a later one see the gap and recover.
                logger.warning(
                    "publication stored but not sent over nats", metadata: ["channel": "\(channel)", "offset": "\(result.position.offset)", "error": "\(error)"])
                guard result.position.offset > 0 else { return }  // not in a stream: nothing to send later
                self.state.withLock { s in
                    if let first = s.unsent[channel], first.epoch == result.position.epoch, first.offset <= result.position.offset { return }
                    s.unsent[channel] = result.position
                }
            }
        }
    }

    /// Sends, from the stream, the publications NATS did not take while the connection was
    /// down, in offset order, so subscribers elsewhere get them live instead of at the next
    /// publication or position check. Whatever cannot be sent stays for the next time.
    private func sendUnsent() async {
        guard let store, let client = state.withLock({ $0.client }) else { return }
        let pending = state.withLock { s -> [String: StreamPosition] in
            defer { s.unsent = [:] }
            return s.unsent
        }
        for (channel, first) in pending {
            do {
                let since = StreamPosition(offset: first.offset - 1, epoch: first.epoch)
                let read = try await store.history(channel: channel, filter: HistoryFilter(since: since, limit: -1), metaTTLSeconds: 0)
                // Another epoch: the stream began anew; its subscribers recover with it.
                guard read.top.epoch == first.epoch else { continue }
                let subject = try subject(channel)
                for publication in read.publications {
                    let position = StreamPosition(offset: publication.offset, epoch: read.top.epoch)
                    try client.publish(subject, payload: BrokerPush.publication(channel: channel, publication, position: position, useDelta: false).encoded())
                }
                logger.info("stored publications sent over nats", metadata: ["channel": "\(channel)", "count": "\(read.publications.count)"])
            } catch {
                state.withLock { s in
                    if s.unsent[channel] == nil { s.unsent[channel] = first }
                }
                logger.warning("could not send stored publications over nats", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
        }
    }

    package func publishJoin(channel: String, info: ClientInfo) async throws {
        try client().publish(try subject(channel), payload: BrokerPush.join(channel: channel, info).encoded())
    }

    package func publishLeave(channel: String, info: ClientInfo) async throws {
        try client().publish(try subject(channel), payload: BrokerPush.leave(channel: channel, info).encoded())
    }

    package func subscribe(channel: String) async throws {
        try await client().subscribe(try subject(channel))
    }

    package func unsubscribe(channel: String) async throws {
        state.withLock { _ = $0.deltaBases.removeValue(forKey: channel) }
        try client().unsubscribe(try subject(channel))
    }

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        guard let store else { throw BrokerRefusal(.notAvailable) }
        return try await store.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }

    package func removeHistory(channel: String) async throws {
        guard let store else { throw BrokerRefusal(.notAvailable) }
        try await store.removeHistory(channel: channel)
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        guard let store else { throw BrokerRefusal(.notAvailable) }
        return try await store.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }

    package func close() async {
        let (client, consumer) = state.withLock { s in
            defer {
                s.client = nil
                s.consumer = nil
            }
            return (s.client, s.consumer)
        }
        await client?.close()
        await consumer?.value
    }

    /// The publication just before `position` when it was the last heard on `channel` and a
    /// delta is asked for; remembers this one as the next one's base. Messages of one connection
    /// arrive in order, one at a time.
    private func deltaBase(_ channel: String, position: StreamPosition, _ publication: Publication, useDelta: Bool) -> Publication? {
        state.withLock { s in
            let base = s.deltaBases[channel]
            guard useDelta || base != nil, position.offset > 0 else { return nil }
            s.deltaBases[channel] = (position, publication)
            guard useDelta, let base, base.position.epoch == position.epoch, base.position.offset + 1 == position.offset else { return nil }
            return base.publication
        }
    }

    private func deliver(_ payload: ByteBuffer) {
        guard let handler else { return }
        do {
            switch try BrokerPush.decode(payload.readableBytesView) {
            case .publication(let channel, let publication, let position, let useDelta):
                let previous = position.flatMap { deltaBase(channel, position: $0, publication, useDelta: useDelta) }
                handler.handlePublication(
                    channel: channel,
                    result: AppendResult(position: position ?? StreamPosition(offset: 0, epoch: ""), publication: publication, previous: previous))
            case .join(let channel, let info):
                handler.handleJoin(channel: channel, info: info)
            case .leave(let channel, let info):
                handler.handleLeave(channel: channel, info: info)
            }
        } catch {
            logger.warning("undecodable nats message dropped", metadata: ["error": "\(error)"])
        }
    }
}
